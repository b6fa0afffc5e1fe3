import LatentflowTensor

/// Where model builders read their parameters: a flat map of canonical (LDM / ComfyUI) keys.
///
/// Builders take a `WeightScope` and create children from `scope["in_layers.0"]`, so each key
/// string is written once, next to the layer that owns it, and the model defines its own
/// expected key set. Every read is recorded, so loading can report unused keys.
public final class WeightStore: @unchecked Sendable {
    public private(set) var tensors: [String: Tensor]
    /// Where the tensors came from, for error messages.
    public let source: String
    private(set) var used: Set<String> = []
    private(set) var missing: [String] = []
    private(set) var mismatched: [String] = []

    public init(_ tensors: [String: Tensor], source: String) {
        self.tensors = tensors
        self.source = source
    }

    public var root: WeightScope { WeightScope(store: self, prefix: "") }

    /// When set, missing tensors are created by this function instead of being reported: a
    /// model built over an empty store this way yields a complete, consistent set of weights
    /// (how the embedded tiny checkpoint is made).
    public var synthesize: ((_ key: String, _ shape: [Int]) -> Tensor)?

    func take(_ key: String, shape: [Int]?) -> Tensor {
        used.insert(key)
        if tensors[key] == nil, let synthesize, let shape {
            tensors[key] = synthesize(key, shape)
        }
        guard let tensor = tensors[key] else {
            missing.append(key)
            return Tensor(shape: shape ?? [0])
        }
        if let shape, tensor.shape != shape, tensor.shape.reduce(1, *) == shape.reduce(1, *) {
            // Linear projections stored as 1x1 convolutions (and the reverse) differ only in shape.
            return (try? tensor.reshaped(shape)) ?? tensor
        }
        if let shape, tensor.shape != shape {
            mismatched.append("\(key): expected \(shape), found \(tensor.shape)")
        }
        return tensor
    }

    /// Throws a `ModelLoadError` listing every missing key and shape mismatch, and the keys
    /// under `prefixes` that no layer read (unexpected keys).
    public func verify(unusedUnder prefixes: [String] = [""], ignoring ignored: (String) -> Bool = { _ in false }) throws {
        let unexpected = tensors.keys.filter { key in
            !used.contains(key) && prefixes.contains { key.hasPrefix($0) } && !ignored(key)
        }.sorted()
        if !missing.isEmpty || !mismatched.isEmpty || !unexpected.isEmpty {
            throw ModelLoadError.keys(file: source, missing: missing.sorted(), unexpected: unexpected, mismatched: mismatched.sorted())
        }
    }
}

/// A prefix into a `WeightStore`.
public struct WeightScope: Sendable {
    let store: WeightStore
    public let prefix: String

    public subscript(_ child: String) -> WeightScope {
        WeightScope(store: store, prefix: prefix.isEmpty ? child : prefix + "." + child)
    }

    /// The tensor at `<prefix>.<name>`, expected to have `shape` (nil: any).
    public func tensor(_ name: String, shape: [Int]? = nil) -> Tensor {
        store.take(key(name), shape: shape)
    }

    public func has(_ name: String) -> Bool { store.tensors[key(name)] != nil }

    /// The stored shape at `<prefix>.<name>` without taking the tensor: what configuration
    /// detection reads.
    public func shape(of name: String) -> [Int]? { store.tensors[key(name)]?.shape }

    private func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
}

public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case keys(file: String, missing: [String], unexpected: [String], mismatched: [String])
    case unrecognized(file: String, reason: String)

    public var description: String {
        switch self {
        case let .keys(file, missing, unexpected, mismatched):
            var lines = ["\(file): the weights do not fit the model"]
            func list(_ title: String, _ keys: [String]) {
                guard !keys.isEmpty else { return }
                lines.append("  \(title) (\(keys.count)): " + keys.prefix(12).joined(separator: ", ") + (keys.count > 12 ? ", …" : ""))
            }
            list("missing keys", missing)
            list("shape mismatches", mismatched)
            list("unexpected keys", unexpected)
            return lines.joined(separator: "\n")
        case let .unrecognized(file, reason):
            return "\(file): \(reason)"
        }
    }
}
