/// Bounds that keep a hostile pickle from exhausting memory or the call stack.
struct PickleLimits {
    var maximumStack = 1 << 22
    var maximumMarks = 1_000
    var maximumMemo = 1 << 22
    var maximumDepth = 100
    var maximumNodes = 1 << 20
    var maximumLineLength = 1_024
    var maximumLongBytes = 1 << 12

    static let standard = PickleLimits()
}

/// One `torch.save` persistent id: ('storage', storage_type, key, location, numel[, view]).
struct TorchPersistentID {
    let dtype: SafeTensorsDType
    let key: String
    let location: String
    let elementCount: Int
    /// Legacy storage views: (view_key, offset, size), in elements of the root storage.
    let view: (key: String, offset: Int, count: Int)?
}

/// A restricted pickle interpreter. It implements the stack machine of Python's `pickle`
/// for the opcodes `torch.save` writes, but GLOBAL resolves only the names in `TorchGlobal`
/// and REDUCE/NEWOBJ only build containers and tensors, as torch's `weights_only` unpickler.
/// Nothing is imported or executed; every malformed input ends in a `TorchPickleError`.
struct PickleMachine {
    let file: String
    let limits: PickleLimits
    /// Resolves a persistent id to a storage; nil where the pickle may hold no storages.
    let persistentLoad: ((TorchPersistentID, Int) throws -> TorchStorageReference)?

    private var stack: [PickleObject] = []
    private var marks: [[PickleObject]] = []
    private var memo: [Int: PickleObject] = [:]
    /// Every container created, so the graph can be torn down without deep recursive releases.
    private var containers: [PickleObject] = []

    init(
        file: String, limits: PickleLimits = .standard,
        persistentLoad: ((TorchPersistentID, Int) throws -> TorchStorageReference)? = nil
    ) {
        self.file = file
        self.limits = limits
        self.persistentLoad = persistentLoad
    }

    /// Runs one pickle from the reader's position up to and including its STOP opcode.
    mutating func load(_ reader: inout PickleByteReader) throws -> PickleValue {
        defer { tearDown() }
        while true {
            let offset = reader.position
            let byte: UInt8
            do { byte = try reader.byte() } catch {
                throw TorchPickleError.truncatedPickle(file: file, offset: offset, opcode: "an opcode")
            }
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw TorchPickleError.invalidOpcode(file: file, offset: offset, opcode: byte)
            }
            do {
                if opcode == .stop {
                    let result = try pop(offset)
                    var builder = PickleValueBuilder(
                        file: file, maximumDepth: limits.maximumDepth,
                        maximumNodes: limits.maximumNodes)
                    return try builder.value(of: result)
                }
                try execute(opcode, at: offset, reader: &reader)
            } catch let truncated as PickleByteReader.Truncated {
                _ = truncated
                throw TorchPickleError.truncatedPickle(
                    file: file, offset: reader.position,
                    opcode: String(describing: opcode).uppercased())
            } catch let long as PickleByteReader.LineTooLong {
                throw TorchPickleError.malformedPickle(
                    file: file, offset: offset,
                    reason: "GLOBAL name longer than \(long.limit) bytes")
            }
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private mutating func execute(_ opcode: PickleOpcode, at offset: Int, reader: inout PickleByteReader) throws {
        switch opcode {
        case .proto:
            let version = try reader.byte()
            guard version <= 5 else { throw malformed(offset, "pickle protocol \(version) is newer than 5") }
        case .frame:
            // Framing only groups opcodes for buffered reading; the reader sees the whole pickle.
            let length = try reader.littleEndian(UInt64.self)
            guard length <= UInt64(reader.remaining) else { throw PickleByteReader.Truncated(needed: Int.max) }
        case .mark:
            guard marks.count < limits.maximumMarks else {
                throw TorchPickleError.limitExceeded(file: file, what: "nested MARKs", limit: limits.maximumMarks)
            }
            marks.append(stack)
            stack = []
        case .stop:
            break  // handled by load
        case .none: try push(.value(.none))
        case .newTrue: try push(.value(.bool(true)))
        case .newFalse: try push(.value(.bool(false)))
        case .binInt: try push(.value(.int(Int(try reader.littleEndian(Int32.self)))))
        case .binInt1: try push(.value(.int(Int(try reader.byte()))))
        case .binInt2: try push(.value(.int(Int(try reader.littleEndian(UInt16.self)))))
        case .long1: try push(.value(try long(length: Int(try reader.byte()), reader: &reader, at: offset)))
        case .long4:
            let length = try reader.littleEndian(Int32.self)
            guard length >= 0 else { throw malformed(offset, "LONG4 with negative length \(length)") }
            try push(.value(try long(length: Int(length), reader: &reader, at: offset)))
        case .binFloat: try push(.value(.float(try reader.bigEndianDouble())))
        case .binUnicode:
            try push(.value(.string(try text(Int(try reader.littleEndian(UInt32.self)), &reader, at: offset))))
        case .shortBinUnicode:
            try push(.value(.string(try text(Int(try reader.byte()), &reader, at: offset))))
        case .binUnicode8:
            try push(.value(.string(try text(try length64(&reader), &reader, at: offset))))
        case .binString, .shortBinString:
            // Python 2 str: torch.load decodes these as text when they are valid UTF-8.
            let length = opcode == .binString ? Int(try reader.littleEndian(Int32.self)) : Int(try reader.byte())
            guard length >= 0 else { throw malformed(offset, "string with negative length \(length)") }
            let raw = Array(try reader.take(length))
            if let decoded = String(validating: raw, as: UTF8.self) {
                try push(.value(.string(decoded)))
            } else {
                try push(.value(.bytes(raw)))
            }
        case .binBytes: try push(.value(.bytes(Array(try reader.take(Int(try reader.littleEndian(UInt32.self)))))))
        case .shortBinBytes: try push(.value(.bytes(Array(try reader.take(Int(try reader.byte()))))))
        case .binBytes8: try push(.value(.bytes(Array(try reader.take(try length64(&reader))))))
        case .emptyTuple: try push(tuple([]))
        case .emptyList: try push(container(.list(PickleListBox())))
        case .emptyDict: try push(container(.dict(PickleDictBox(isOrdered: false))))
        case .emptySet: try push(container(.set(PickleListBox())))
        case .tuple: try push(tuple(try popMark(offset)))
        case .tuple1:
            let first = try pop(offset)
            try push(tuple([first]))
        case .tuple2:
            let second = try pop(offset), first = try pop(offset)
            try push(tuple([first, second]))
        case .tuple3:
            let third = try pop(offset), second = try pop(offset), first = try pop(offset)
            try push(tuple([first, second, third]))
        case .frozenSet:
            let box = PickleListBox()
            box.items = try popMark(offset)
            try push(container(.set(box)))
        case .append:
            let item = try pop(offset)
            guard case let .list(box) = try top(offset) else { throw wrongTarget(offset, "APPEND", "a list") }
            box.items.append(item)
        case .appends:
            let items = try popMark(offset)
            guard case let .list(box) = try top(offset) else { throw wrongTarget(offset, "APPENDS", "a list") }
            box.items.append(contentsOf: items)
        case .addItems:
            let items = try popMark(offset)
            guard case let .set(box) = try top(offset) else { throw wrongTarget(offset, "ADDITEMS", "a set") }
            box.items.append(contentsOf: items)
        case .setItem:
            let value = try pop(offset), key = try pop(offset)
            guard case let .dict(box) = try top(offset) else { throw wrongTarget(offset, "SETITEM", "a dict") }
            box.set(value, for: key)
        case .setItems:
            let items = try popMark(offset)
            guard items.count % 2 == 0 else { throw malformed(offset, "SETITEMS with an odd number of items") }
            guard case let .dict(box) = try top(offset) else { throw wrongTarget(offset, "SETITEMS", "a dict") }
            for index in stride(from: 0, to: items.count, by: 2) { box.set(items[index + 1], for: items[index]) }
        case .binPut: try put(Int(try reader.byte()), offset)
        case .longBinPut: try put(Int(try reader.littleEndian(UInt32.self)), offset)
        case .memoize: try put(memo.count, offset)
        case .binGet: try get(Int(try reader.byte()), offset)
        case .longBinGet: try get(Int(try reader.littleEndian(UInt32.self)), offset)
        case .global:
            let module = try reader.line(limit: limits.maximumLineLength)
            let name = try reader.line(limit: limits.maximumLineLength)
            try push(
                .global(
                    try resolve(
                        module: String(decoding: module, as: UTF8.self),
                        name: String(decoding: name, as: UTF8.self))))
        case .stackGlobal:
            let name = try pop(offset), module = try pop(offset)
            guard case let .value(.string(nameText)) = name, case let .value(.string(moduleText)) = module else {
                throw malformed(offset, "STACK_GLOBAL needs two strings, got \(module.typeName), \(name.typeName)")
            }
            try push(.global(try resolve(module: moduleText, name: nameText)))
        case .reduce, .newObject:
            let arguments = try pop(offset), callee = try pop(offset)
            guard case let .tuple(box) = arguments else {
                let name = opcode == .reduce ? "REDUCE" : "NEWOBJ"
                throw malformed(offset, "\(name) arguments are a \(arguments.typeName)")
            }
            var created: [PickleObject] = []
            let call = TorchGlobalCall(file: file, offset: offset) { created.append($0) }
            let result = try call.call(callee, arguments: box.items)
            containers.append(contentsOf: created)
            try push(result)
        case .build:
            let state = try pop(offset)
            switch try top(offset) {
            case let .dict(box) where box.isOrdered:
                break  // OrderedDict attributes (a state dict's `_metadata`): not part of the data
            case .value(.tensor):
                break  // Parameter / tensor state (hooks, attributes): not part of the data
            case let target:
                throw malformed(
                    offset,
                    "BUILD of \(target.typeName) with \(state.typeName) state "
                        + "(only OrderedDict, Tensor and Parameter may be built)")
            }
        case .binPersistentID:
            let identifier = try pop(offset)
            try push(.storage(try storage(identifier, offset)))
        }
    }

    // MARK: - Stack, marks and memo

    private mutating func push(_ object: PickleObject) throws {
        guard stack.count < limits.maximumStack else {
            throw TorchPickleError.limitExceeded(file: file, what: "stack entries", limit: limits.maximumStack)
        }
        stack.append(object)
    }

    private mutating func pop(_ offset: Int) throws -> PickleObject {
        guard let object = stack.popLast() else { throw malformed(offset, "stack underflow") }
        return object
    }

    private func top(_ offset: Int) throws -> PickleObject {
        guard let object = stack.last else { throw malformed(offset, "stack underflow") }
        return object
    }

    private mutating func popMark(_ offset: Int) throws -> [PickleObject] {
        guard let outer = marks.popLast() else { throw malformed(offset, "no MARK to pop to") }
        let items = stack
        stack = outer
        return items
    }

    private mutating func put(_ index: Int, _ offset: Int) throws {
        guard memo.count < limits.maximumMemo || memo[index] != nil else {
            throw TorchPickleError.limitExceeded(file: file, what: "memo entries", limit: limits.maximumMemo)
        }
        memo[index] = try top(offset)
    }

    private mutating func get(_ index: Int, _ offset: Int) throws {
        guard let object = memo[index] else {
            throw TorchPickleError.missingMemo(file: file, offset: offset, index: index)
        }
        try push(object)
    }

    private mutating func tuple(_ items: [PickleObject]) -> PickleObject { container(.tuple(PickleTupleBox(items))) }

    private mutating func container(_ object: PickleObject) -> PickleObject {
        containers.append(object)
        return object
    }

    /// Empties every container before the graph is released: a deeply nested or cyclic graph
    /// would otherwise be freed by one recursive release per level (or leak, for a cycle).
    private mutating func tearDown() {
        for object in containers {
            switch object {
            case let .list(box), let .set(box): box.items.removeAll()
            case let .dict(box): box.removeAll()
            case let .tuple(box): box.items.removeAll()
            default: break
            }
        }
        containers.removeAll()
        stack.removeAll()
        marks.removeAll()
        memo.removeAll()
    }

    // MARK: - Operands

    private func resolve(module: String, name: String) throws -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw TorchPickleError.disallowedGlobal(file: file, global: "\(module).\(name)")
        }
        return global
    }

    private func text(_ length: Int, _ reader: inout PickleByteReader, at offset: Int) throws -> String {
        let raw = try reader.take(length)
        guard let decoded = String(validating: raw, as: UTF8.self) else {
            throw malformed(offset, "string of \(length) bytes is not valid UTF-8")
        }
        return decoded
    }

    private func length64(_ reader: inout PickleByteReader) throws -> Int {
        let length = try reader.littleEndian(UInt64.self)
        guard length <= UInt64(reader.remaining) else { throw PickleByteReader.Truncated(needed: Int.max) }
        return Int(length)
    }

    /// LONG1/LONG4: a little-endian two's complement integer of `length` bytes.
    private func long(length: Int, reader: inout PickleByteReader, at offset: Int) throws -> PickleValue {
        guard length <= limits.maximumLongBytes else {
            throw TorchPickleError.limitExceeded(
                file: file, what: "bytes in one integer",
                limit: limits.maximumLongBytes)
        }
        let raw = Array(try reader.take(length))
        guard let last = raw.last else { return .int(0) }
        let negative = last & 0x80 != 0
        // Bytes beyond the eighth must be pure sign extension for the value to fit an Int.
        let fits =
            raw.count <= 8
            || raw[8...].allSatisfy { $0 == (negative ? 0xFF : 0) }
                && (raw[7] & 0x80 != 0) == negative
        guard fits else { return .bigInt(raw) }
        var value: UInt64 = negative ? ~0 : 0
        for (index, byte) in raw.prefix(8).enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(index)))
            value |= UInt64(byte) << (8 * UInt64(index))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    /// BINPERSID: only ('storage', storage_type, key, location, numel[, view]) is accepted.
    private func storage(_ identifier: PickleObject, _ offset: Int) throws -> TorchStorageReference {
        func refuse(_ reason: String) -> TorchPickleError {
            .invalidPersistentID(file: file, offset: offset, reason: reason)
        }
        guard let persistentLoad else { throw refuse("this pickle may not refer to storages") }
        guard case let .tuple(box) = identifier, box.items.count == 5 || box.items.count == 6 else {
            throw refuse("expected a ('storage', type, key, location, numel) tuple, got \(identifier.typeName)")
        }
        let items = box.items
        let tag: String?
        switch items[0] {
        case let .value(.string(text)): tag = text
        case let .value(.bytes(raw)): tag = String(decoding: raw, as: UTF8.self)
        default: tag = nil
        }
        guard tag == "storage" else { throw refuse("only 'storage' persistent ids are allowed") }
        guard case let .global(.storageType(dtype, _)) = items[1] else {
            throw refuse("storage type is \(items[1].typeName), not a torch.*Storage class")
        }
        guard case let .value(.string(key)) = items[2] else { throw refuse("storage key is not a string") }
        guard case let .value(.string(location)) = items[3] else { throw refuse("storage location is not a string") }
        guard case let .value(.int(count)) = items[4], count >= 0 else {
            throw refuse("storage '\(key)' element count is not a non-negative int")
        }
        var view: (key: String, offset: Int, count: Int)?
        if items.count == 6 {
            switch items[5] {
            case .value(.none): break
            case let .tuple(partsBox):
                let parts = partsBox.items
                guard parts.count == 3, case let .value(.string(viewKey)) = parts[0],
                    case let .value(.int(viewOffset)) = parts[1], case let .value(.int(viewCount)) = parts[2],
                    viewOffset >= 0, viewCount >= 0
                else {
                    throw refuse("storage '\(key)' view is not (key, offset, size)")
                }
                view = (viewKey, viewOffset, viewCount)
            default: throw refuse("storage '\(key)' view is a \(items[5].typeName)")
            }
        }
        return try persistentLoad(
            TorchPersistentID(
                dtype: dtype, key: key, location: location,
                elementCount: count, view: view), offset)
    }

    private func malformed(_ offset: Int, _ reason: String) -> TorchPickleError {
        .malformedPickle(file: file, offset: offset, reason: reason)
    }

    private func wrongTarget(_ offset: Int, _ opcode: String, _ expected: String) -> TorchPickleError {
        .malformedPickle(file: file, offset: offset, reason: "\(opcode) target is not \(expected)")
    }
}
