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
        // Linear projections stored as 1x1 convolutions (and the reverse) differ only in trailing
        // 1s; any other shape of the same element count (a transposed matrix) is a mismatch.
        if Self.droppingTrailingOnes(parameter.shape) == Self.droppingTrailingOnes(shape),
            let reshaped = parameter.reshaped(shape)
        {
            return reshaped
        }
        mismatched.append("\(key): expected \(shape), found \(parameter.shape)")
        return parameter
    }

    private static func droppingTrailingOnes(_ shape: [Int]) -> ArraySlice<Int> {
        var shape = shape[...]
        while shape.count > 1, shape.last == 1 { shape.removeLast() }
        return shape
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

    /// The stored shape at `<prefix>.<name>`, nil when there is none, checked before a detector
    /// reads its dimensions: throws `ModelLoadError.unexpectedShape` unless its rank is one of
    /// `ranks` and no dimension is zero.
    public func checkedShape(_ name: String, rank ranks: Int...) throws -> [Int]? {
        guard let shape = shape(of: name) else { return nil }
        guard ranks.contains(shape.count), !shape.contains(0) else {
            throw ModelLoadError.unexpectedShape(
                file: store.source, key: key(name), found: shape,
                expected: ranks.map { "\($0) non-zero dimensions" }.joined(separator: " or "))
        }
        return shape
    }

    /// Throws `ModelLoadError.unexpectedShape` for `<prefix>.<name>` unless `valid`.
    public func require(_ valid: Bool, _ name: String, expected: @autoclosure () -> String) throws {
        guard !valid else { return }
        throw ModelLoadError.unexpectedShape(
            file: store.source, key: key(name), found: shape(of: name) ?? [], expected: expected())
    }

    private func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
}

public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case keys(file: String, missing: [String], unexpected: [String], mismatched: [String])
    case unrecognized(file: String, reason: String)
    /// A tensor whose shape a loader cannot read: `expected` says what it needed.
    case unexpectedShape(file: String, key: String, found: [Int], expected: String)

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
        case let .unexpectedShape(file, key, found, expected):
            return "\(file): tensor \(key) has shape \(found), expected \(expected)"
        }
    }
}
