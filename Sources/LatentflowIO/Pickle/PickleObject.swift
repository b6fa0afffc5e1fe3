/// The unpickler's working objects. Lists, dicts and sets are boxes with reference semantics,
/// because pickles memoize a container before filling it and later refer back to it; once the
/// pickle stops, the graph is copied out into the value type `PickleValue`. Tuples are boxes
/// too, so that every composite object can be emptied by the machine's tear-down: a million
/// nested tuples would otherwise be released by a million nested calls.
enum PickleObject {
    case value(PickleValue)
    case list(PickleListBox)
    case dict(PickleDictBox)
    case set(PickleListBox)
    case tuple(PickleTupleBox)
    case global(TorchGlobal)
    case storage(TorchStorageReference)

    var typeName: String {
        switch self {
        case let .value(value): return value.typeName
        case .list: return "list"
        case let .dict(box): return box.isOrdered ? "collections.OrderedDict" : "dict"
        case .set: return "set"
        case .tuple: return "tuple"
        case let .global(global): return global.qualifiedName
        case .storage: return "Storage"
        }
    }
}

final class PickleListBox {
    var items: [PickleObject] = []
}

final class PickleTupleBox {
    var items: [PickleObject]

    init(_ items: [PickleObject]) { self.items = items }
}

final class PickleDictBox {
    let isOrdered: Bool
    private(set) var keys: [PickleObject] = []
    private(set) var values: [PickleObject] = []
    /// Positions of scalar keys, so a repeated key replaces its value as in Python, in O(1).
    private var positions: [PickleValue: Int] = [:]

    init(isOrdered: Bool) { self.isOrdered = isOrdered }

    var count: Int { keys.count }

    func set(_ value: PickleObject, for key: PickleObject) {
        if case let .value(scalar) = key {
            if let position = positions[scalar] {
                values[position] = value
                return
            }
            positions[scalar] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    func removeAll() {
        keys.removeAll()
        values.removeAll()
        positions.removeAll()
    }
}

/// Copies the working graph into `PickleValue`s. Depth is bounded (which also ends cycles, such
/// as a list appended to itself) and so is the number of nodes produced, since shared
/// sub-graphs are copied once per reference and could otherwise grow exponentially.
struct PickleValueBuilder {
    let file: String
    let maximumDepth: Int
    let maximumNodes: Int
    private var producedNodes = 0

    init(file: String, maximumDepth: Int, maximumNodes: Int) {
        self.file = file
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
    }

    mutating func value(of object: PickleObject, depth: Int = 0) throws -> PickleValue {
        guard depth <= maximumDepth else {
            throw TorchPickleError.limitExceeded(
                file: file, what: "levels of nesting (or a cyclic container)",
                limit: maximumDepth)
        }
        producedNodes += 1
        guard producedNodes <= maximumNodes else {
            throw TorchPickleError.limitExceeded(
                file: file, what: "values in the unpickled object",
                limit: maximumNodes)
        }
        switch object {
        case let .value(value): return value
        case let .list(box): return .list(try box.items.map { try value(of: $0, depth: depth + 1) })
        case let .set(box): return .set(try box.items.map { try value(of: $0, depth: depth + 1) })
        case let .tuple(box): return .tuple(try box.items.map { try value(of: $0, depth: depth + 1) })
        case let .dict(box):
            var entries: [PickleDictEntry] = []
            entries.reserveCapacity(box.count)
            for (key, item) in zip(box.keys, box.values) {
                entries.append(
                    PickleDictEntry(
                        key: try value(of: key, depth: depth + 1),
                        value: try value(of: item, depth: depth + 1)))
            }
            return .dict(entries)
        case let .storage(storage):
            return .storage(key: storage.key, dtype: storage.dtype, elementCount: storage.elementCount)
        case let .global(global):
            // A class or function left in the data itself (not called): named, never resolved.
            return .string(global.qualifiedName)
        }
    }
}
