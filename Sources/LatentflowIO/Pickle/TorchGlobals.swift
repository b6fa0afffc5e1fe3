/// The globals a checkpoint may name: the subset of PyTorch's `weights_only=True` allowlist
/// that plain state dicts use. A GLOBAL outside it is refused when it is read, so nothing else
/// can ever be called; the reader never imports or executes anything in any case.
enum TorchGlobal: Hashable {
    case orderedDict
    case set
    case frozenSet
    case codecsEncode
    case torchSize
    case tensorClass
    case parameterClass
    case rebuildTensor
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case rebuildFromTypeV2
    case storageType(SafeTensorsDType, name: String)

    init?(module: String, name: String) {
        // Python 2 pickles (legacy torch.save) name the builtins module differently.
        let module = module == "__builtin__" ? "builtins" : module
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("builtins", "set"): self = .set
        case ("builtins", "frozenset"): self = .frozenSet
        case ("_codecs", "encode"): self = .codecsEncode
        case ("torch", "Size"): self = .torchSize
        case ("torch", "Tensor"), ("torch._tensor", "Tensor"): self = .tensorClass
        case ("torch.nn.parameter", "Parameter"): self = .parameterClass
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): self = .rebuildFromTypeV2
        case ("torch", _), ("torch.storage", _):
            guard let dtype = SafeTensorsDType(torchStorageName: name) else { return nil }
            self = .storageType(dtype, name: name)
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .set: return "builtins.set"
        case .frozenSet: return "builtins.frozenset"
        case .codecsEncode: return "_codecs.encode"
        case .torchSize: return "torch.Size"
        case .tensorClass: return "torch.Tensor"
        case .parameterClass: return "torch.nn.parameter.Parameter"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: return "torch._tensor._rebuild_from_type_v2"
        case let .storageType(_, name): return "torch.\(name)"
        }
    }
}

/// What REDUCE and NEWOBJ do with an allowed global: build the container or tensor it stands
/// for from already-unpickled arguments, checking each argument's kind first.
struct TorchGlobalCall {
    let file: String
    let offset: Int
    let newContainer: (PickleObject) -> Void

    func call(_ callee: PickleObject, arguments: [PickleObject]) throws -> PickleObject {
        guard case let .global(global) = callee else {
            throw TorchPickleError.disallowedCall(file: file, offset: offset, callee: callee.typeName)
        }
        let name = global.qualifiedName
        func refuse(_ reason: String) -> TorchPickleError {
            .invalidArguments(file: file, offset: offset, callee: name, reason: reason)
        }
        switch global {
        case .orderedDict:
            let box = PickleDictBox(isOrdered: true)
            newContainer(.dict(box))
            if let first = arguments.first {
                guard arguments.count == 1, let pairs = Self.sequence(first) else {
                    throw refuse("expects nothing or one sequence of (key, value) pairs")
                }
                for pair in pairs {
                    guard let items = Self.sequence(pair), items.count == 2 else {
                        throw refuse("item is not a (key, value) pair")
                    }
                    box.set(items[1], for: items[0])
                }
            }
            return .dict(box)
        case .set, .frozenSet:
            let box = PickleListBox()
            newContainer(.set(box))
            if let first = arguments.first {
                guard arguments.count == 1, let items = Self.sequence(first) else {
                    throw refuse("expects nothing or one sequence")
                }
                box.items = items
            }
            return .set(box)
        case .codecsEncode:
            // Protocol 2 writes bytes as _codecs.encode(text, 'latin1'): one byte per code point.
            guard arguments.count == 2, case let .value(.string(text)) = arguments[0],
                case let .value(.string(encoding)) = arguments[1],
                ["latin1", "latin-1", "iso-8859-1"].contains(encoding.lowercased())
            else {
                throw refuse("expects (str, 'latin1')")
            }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw refuse("code point \(scalar.value) is not latin-1") }
                bytes.append(UInt8(scalar.value))
            }
            return .value(.bytes(bytes))
        case .torchSize:
            guard arguments.count <= 1 else { throw refuse("expects one sequence of ints") }
            var items: [PickleObject] = []
            if let first = arguments.first {
                guard let sequence = Self.sequence(first) else { throw refuse("expects one sequence of ints") }
                items = sequence
            }
            let size = PickleObject.tuple(PickleTupleBox(items))
            newContainer(size)
            return size
        case .rebuildTensor, .rebuildTensorV2:
            guard arguments.count >= 4, case let .storage(storage) = arguments[0] else {
                throw refuse("expects (storage, storage_offset, size, stride, ...)")
            }
            guard case let .value(.int(storageOffset)) = arguments[1] else {
                throw refuse("storage_offset is not an int")
            }
            guard let shape = Self.integers(arguments[2]) else { throw refuse("size is not a sequence of ints") }
            guard let strides = Self.integers(arguments[3]) else { throw refuse("stride is not a sequence of ints") }
            var requiresGrad = false
            if global == .rebuildTensorV2, arguments.count > 4, case let .value(.bool(flag)) = arguments[4] {
                requiresGrad = flag
            }
            let info = try TorchTensorInfo.validated(
                storage: storage, offset: storageOffset, shape: shape,
                strides: strides, requiresGrad: requiresGrad, file: file)
            return .value(.tensor(info))
        case .rebuildParameter, .rebuildParameterWithState, .parameterClass:
            guard let first = arguments.first, case let .value(.tensor(info)) = first else {
                throw refuse("expects a tensor as its first argument")
            }
            var requiresGrad = global == .parameterClass
            if arguments.count > 1, case let .value(.bool(flag)) = arguments[1] { requiresGrad = flag }
            return .value(
                .tensor(
                    TorchTensorInfo(
                        dtype: info.dtype, shape: info.shape, strides: info.strides,
                        storageOffset: info.storageOffset, storageKey: info.storageKey,
                        requiresGrad: requiresGrad)))
        case .rebuildFromTypeV2:
            // (func, new_type, args, state): tensor subclasses; only plain Tensor and Parameter
            // are accepted, built by the (allowed) rebuild function they name.
            // The inner function must be a plain rebuild function, so this never recurses further.
            guard arguments.count >= 3, case let .global(function) = arguments[0],
                [.rebuildTensor, .rebuildTensorV2, .rebuildParameter].contains(function),
                case let .global(newType) = arguments[1], newType == .tensorClass || newType == .parameterClass,
                let innerArguments = Self.sequence(arguments[2])
            else {
                throw refuse("expects (rebuild function, torch.Tensor or Parameter, args, state)")
            }
            return try call(arguments[0], arguments: innerArguments)
        case .tensorClass, .storageType:
            throw TorchPickleError.disallowedCall(file: file, offset: offset, callee: name)
        }
    }

    static func sequence(_ object: PickleObject) -> [PickleObject]? {
        switch object {
        case let .tuple(box): return box.items
        case let .list(box): return box.items
        default: return nil
        }
    }

    static func integers(_ object: PickleObject) -> [Int]? {
        guard let items = sequence(object) else { return nil }
        var result: [Int] = []
        for item in items {
            guard case let .value(.int(value)) = item else { return nil }
            result.append(value)
        }
        return result
    }
}
