import Foundation

/// A node type. Built-in nodes and third-party nodes implement the same protocol and are
/// registered the same way, through a `NodePack`.
public protocol Node: Sendable {
    static var schema: NodeSchema { get }

    init()

    /// Runs the node on one set of inputs (one list element, unless the schema takes lists).
    func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs

    /// ComfyUI's IS_CHANGED: a fingerprint of the node's constant inputs and whatever outside
    /// state it reads (a file's hash). It joins the cache key; `.alwaysChanged` (ComfyUI's NaN)
    /// makes the node and its descendants re-run on every run.
    static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint

    /// ComfyUI's VALIDATE_INPUTS: checks on constant inputs (linked inputs are absent), run at
    /// validation. Inputs listed in `customValidatedInputs` skip the standard range checks.
    static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String?
    static var customValidatedInputs: Set<String> { get }

    /// For nodes with lazy inputs: the names of lazy inputs still needed, given what has been
    /// evaluated so far (lazy inputs not yet evaluated are absent from `inputs`).
    func lazyInputsNeeded(_ inputs: NodeInputs) -> [String]
}

extension Node {
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        .unchanged
    }
    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? { nil }
    public static var customValidatedInputs: Set<String> { [] }
    public func lazyInputsNeeded(_ inputs: NodeInputs) -> [String] { [] }
}

public enum Fingerprint: Sendable, Hashable {
    case unchanged
    case value(String)
    case alwaysChanged
}

/// Constant inputs as validation sees them: already converted to their declared Swift types.
public struct NodeConstants: Sendable {
    public let values: [String: any Sendable]

    public init(_ values: [String: any Sendable]) { self.values = values }

    public subscript<T>(_ input: Input<T>) -> T? { values[input.name] as? T }
    public subscript(_ name: String) -> (any Sendable)? { values[name] }
}

/// The inputs of one node call. Reading by a typed `Input` returns that type.
public struct NodeInputs: Sendable {
    let values: [String: [any Sendable]]
    let index: Int?

    /// Values of one call: element `index` of each input list (the last one for shorter lists).
    init(lists: [String: [any Sendable]], index: Int?) {
        values = lists
        self.index = index
    }

    /// Inputs as whole lists, for calling a node whose schema sets `inputIsList` from Swift.
    public init(lists: [String: [any Sendable]]) { self.init(lists: lists, index: nil) }

    /// Inputs from plain values, for calling a node directly from Swift.
    public init(_ values: [String: any Sendable]) {
        self.values = values.mapValues { [$0] }
        index = 0
    }

    private func element(_ name: String) -> (any Sendable)? {
        guard let list = values[name], !list.isEmpty else { return nil }
        return list[min(index ?? 0, list.count - 1)]
    }

    public func contains(_ name: String) -> Bool { values[name] != nil }

    /// A required input; a missing or mistyped value is an error naming the input.
    public subscript<T>(_ input: Input<T>) -> T {
        get throws {
            guard let raw = element(input.name) else { throw NodeError("input '\(input.name)' is missing") }
            guard let value = raw as? T else {
                throw NodeError("input '\(input.name)' holds \(type(of: raw)), expected \(T.self)")
            }
            return value
        }
    }

    /// An optional input, nil when unconnected.
    public func optional<T>(_ input: Input<T>) throws -> T? {
        guard element(input.name) != nil else { return nil }
        return try self[input]
    }

    /// The whole list of an input (for nodes whose schema sets `inputIsList`).
    public func list<T>(_ input: Input<T>) throws -> [T] {
        try (values[input.name] ?? []).map { raw in
            guard let value = raw as? T else {
                throw NodeError("input '\(input.name)' holds \(type(of: raw)), expected \(T.self)")
            }
            return value
        }
    }

    /// Any input by name, declared or not (ComfyUI passes undeclared inputs through).
    public func raw(_ name: String) -> (any Sendable)? { element(name) }

    public var names: [String] { Array(values.keys) }
}

/// What a node returns: one value per output slot (a list for list outputs), plus the UI result
/// output nodes report (ComfyUI's `{"ui": {"images": [...]}}`).
public struct NodeOutputs: Sendable {
    public var values: [any Sendable]
    public var ui: JSONValue?
    /// Files the node wrote (output nodes), reported as written, never rebuilt from the UI entries.
    public var files: [URL]

    public init(_ values: any Sendable..., ui: JSONValue? = nil, files: [URL] = []) {
        self.values = values
        self.ui = ui
        self.files = files
    }

    public init(values: [any Sendable], ui: JSONValue? = nil, files: [URL] = []) {
        self.values = values
        self.ui = ui
        self.files = files
    }

    public static let none = NodeOutputs(values: [])
}

/// An error raised inside a node; the executor adds where it happened.
public struct NodeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
