import LatentflowTensor

/// Where model builders read their parameters: a flat map of canonical (LDM / ComfyUI) keys.
///
/// Builders take a `WeightScope` and create children from `scope["in_layers.0"]`, so each key
/// string is written once, next to the layer that owns it, and the model defines its own
/// expected key set. Every read is recorded, so loading can report unused keys.
public final class WeightStore: @unchecked Sendable {
    public private(set) var parameters: [String: Parameter]
    /// Where the tensors came from, for error messages.
    public let source: String
    private(set) var used: Set<String> = []
    private(set) var missing: [String] = []
    private(set) var mismatched: [String] = []

    public init(_ parameters: [String: Parameter], source: String) {
        self.parameters = parameters
        self.source = source
    }

    /// A store over float32 tensors held in memory.
    public convenience init(_ tensors: [String: Tensor], source: String) {
        self.init(tensors.mapValues { Parameter($0) }, source: source)
    }

    public var root: WeightScope { WeightScope(store: self, prefix: "") }

    /// When set, missing tensors are created by this function instead of being reported: a
    /// model built over an empty store this way yields a complete, consistent set of weights
    /// (how the embedded tiny checkpoint is made).
    public var synthesize: ((_ key: String, _ shape: [Int]) -> Tensor)?

    func take(_ key: String, shape: [Int]?) -> Parameter {
        used.insert(key)
        if parameters[key] == nil, let synthesize, let shape {
            parameters[key] = Parameter(synthesize(key, shape))
        }
        guard let parameter = parameters[key] else {
            missing.append(key)
            return Parameter(Tensor(shape: shape ?? [0]))
        }
        guard let shape, parameter.shape != shape else { return parameter }
        // Linear projections stored as 1x1 convolutions (and the reverse) differ only in shape.
        if let reshaped = parameter.reshaped(shape) { return reshaped }
        mismatched.append("\(key): expected \(shape), found \(parameter.shape)")
        return parameter
    }

    /// Throws a `ModelLoadError` listing every missing key and shape mismatch, and the keys
    /// under `prefixes` that no layer read (unexpected keys).
    public func verify(unusedUnder prefixes: [String] = [""], ignoring ignored: (String) -> Bool = { _ in false })
        throws
    {
        let unexpected = parameters.keys.filter { key in
            !used.contains(key) && prefixes.contains { key.hasPrefix($0) } && !ignored(key)
        }.sorted()
        if !missing.isEmpty || !mismatched.isEmpty || !unexpected.isEmpty {
            throw ModelLoadError.keys(
                file: source, missing: missing.sorted(), unexpected: unexpected, mismatched: mismatched.sorted())
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

    /// The tensor at `<prefix>.<name>` in float32, expected to have `shape` (nil: any): for
    /// small parameters (biases, norms), which stay in memory whatever the model's residency.
    public func tensor(_ name: String, shape: [Int]? = nil) -> Tensor {
        store.take(key(name), shape: shape).tensor()
    }

    /// The weight at `<prefix>.<name>` as stored (possibly left in its file), for the layers that widen
    /// their weights as they run.
    public func parameter(_ name: String, shape: [Int]? = nil) -> Parameter {
        store.take(key(name), shape: shape)
    }

    public func has(_ name: String) -> Bool { store.parameters[key(name)] != nil }

    /// The stored shape at `<prefix>.<name>` without taking the tensor: what configuration
    /// detection reads.
    public func shape(of name: String) -> [Int]? { store.parameters[key(name)]?.shape }

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
                lines.append(
                    "  \(title) (\(keys.count)): " + keys.prefix(12).joined(separator: ", ")
                        + (keys.count > 12 ? ", …" : ""))
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
