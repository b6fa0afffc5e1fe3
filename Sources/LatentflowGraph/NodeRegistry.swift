/// A package's set of nodes; the built-in nodes and every third-party package expose one.
public protocol NodePack {
    static var name: String { get }
    static var nodes: [any Node.Type] { get }
}

public struct NodeRegistryError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public var description: String { "invalid node registry:\n" + problems.map { "  - " + $0 }.joined(separator: "\n") }
}

/// The node types an executor knows, by class type. A value built from packs, never a global.
public struct NodeRegistry: Sendable {
    private var types: [String: any Node.Type] = [:]
    private var packOf: [String: String] = [:]
    /// Class types in registration order.
    public private(set) var classTypes: [String] = []

    public init(packs: [any NodePack.Type]) throws {
        var problems: [String] = []
        for pack in packs {
            for node in pack.nodes {
                let schema = node.schema
                if let other = packOf[schema.classType] {
                    problems.append("node '\(schema.classType)' is defined by both '\(other)' and '\(pack.name)'")
                    continue
                }
                problems += SchemaChecks.problems(in: schema).map { "\(pack.name).\(schema.classType): \($0)" }
                types[schema.classType] = node
                packOf[schema.classType] = pack.name
                classTypes.append(schema.classType)
            }
        }
        if !problems.isEmpty { throw NodeRegistryError(problems: problems) }
    }

    public func node(_ classType: String) -> (any Node.Type)? { types[classType] }
    public func schema(_ classType: String) -> NodeSchema? { types[classType]?.schema }
    public func pack(of classType: String) -> String? { packOf[classType] }
}

/// Checks a schema when it is registered, so a broken node fails at start-up, not mid-run.
enum SchemaChecks {
    static func problems(in schema: NodeSchema) -> [String] {
        var problems: [String] = []
        if schema.classType.isEmpty { problems.append("empty class type") }
        var seen = Set<String>()
        for input in schema.inputs {
            if !seen.insert(input.name).inserted { problems.append("input '\(input.name)' declared twice") }
            if let min = input.min, let max = input.max, min > max {
                problems.append("input '\(input.name)': min \(min) above max \(max)")
            }
            if let value = input.defaultValue?.doubleValue {
                if let min = input.min, value < min {
                    problems.append("input '\(input.name)': default \(value) below min \(min)")
                }
                if let max = input.max, value > max {
                    problems.append("input '\(input.name)': default \(value) above max \(max)")
                }
            }
            if case .fixed(let options)? = input.options, options.isEmpty {
                problems.append("input '\(input.name)': empty option list")
            }
            if input.type == .combo && input.options == nil {
                problems.append("input '\(input.name)': COMBO without options")
            }
        }
        return problems
    }
}
