/// Everything a node declares about itself: its ComfyUI identity, ports and flags.
public struct NodeSchema: Sendable {
    /// The `class_type` in workflow files.
    public var classType: String
    public var displayName: String
    public var category: String
    public var description: String
    public var inputs: [InputSpec]
    public var outputs: [OutputSpec]
    /// Output nodes (SaveImage, PreviewImage) are what a workflow runs for.
    public var isOutputNode: Bool
    /// Never served from the cache (ComfyUI's NOT_IDEMPOTENT).
    public var isNotIdempotent: Bool
    /// Called once with whole lists instead of once per element (ComfyUI's INPUT_IS_LIST).
    public var inputIsList: Bool

    public init(
        _ classType: String, displayName: String? = nil, category: String, description: String = "",
        inputs: [any InputDeclaration] = [], outputs: [OutputSpec] = [], isOutputNode: Bool = false,
        isNotIdempotent: Bool = false, inputIsList: Bool = false
    ) {
        self.classType = classType
        self.displayName = displayName ?? classType
        self.category = category
        self.description = description
        self.inputs = inputs.map(\.spec)
        self.outputs = outputs
        self.isOutputNode = isOutputNode
        self.isNotIdempotent = isNotIdempotent
        self.inputIsList = inputIsList
    }

    public func input(named name: String) -> InputSpec? { inputs.first { $0.name == name } }
}

/// Builds `[OutputSpec]` from typed outputs: `outputs(Output<Latent>())`.
public func outputs<each T: PortValue>(_ outputs: repeat Output<each T>) -> [OutputSpec] {
    var specs: [OutputSpec] = []
    repeat specs.append((each outputs).spec)
    return specs
}
