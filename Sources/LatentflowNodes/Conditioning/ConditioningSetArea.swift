import LatentflowGraph
import LatentflowModels

/// Restricts a conditioning to a rectangle of the image, with a strength.
public struct ConditioningSetArea: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let width = Input.int("width", default: 64, min: 64, max: maxResolution, step: 8)
    static let height = Input.int("height", default: 64, min: 64, max: maxResolution, step: 8)
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "ConditioningSetArea", displayName: "Conditioning (Set Area)", category: "conditioning",
        inputs: [conditioning, width, height, x, y, strength], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // No VAE at hand: the area is in SD's latent pixels, as ComfyUI's `// 8`.
        let latent = LatentFormat.sd15.latentLength(forPixels:)
        let area = (
            height: latent(try inputs[Self.height]), width: latent(try inputs[Self.width]),
            y: latent(try inputs[Self.y]), x: latent(try inputs[Self.x])
        )
        let strength = try inputs[Self.strength]
        let entries = try inputs[Self.conditioning].entries.map { entry -> Conditioning.Entry in
            var copy = entry
            copy.area = area
            copy.areaFraction = nil
            copy.strength = strength
            // ComfyUI sets `set_area_to_bounds` False with the area.
            copy.setAreaToBounds = false
            return copy
        }
        return NodeOutputs(Conditioning(entries))
    }
}

/// Restricts a conditioning to a rectangle given as fractions of the image, with a strength.
public struct ConditioningSetAreaPercentage: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let width = Input.float("width", default: 1.0, min: 0, max: 1.0, step: 0.01)
    static let height = Input.float("height", default: 1.0, min: 0, max: 1.0, step: 0.01)
    static let x = Input.float("x", default: 0, min: 0, max: 1.0, step: 0.01)
    static let y = Input.float("y", default: 0, min: 0, max: 1.0, step: 0.01)
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "ConditioningSetAreaPercentage", displayName: "Conditioning (Set Area with Percentage)",
        category: "conditioning", inputs: [conditioning, width, height, x, y, strength],
        outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let fraction = (
            height: try inputs[Self.height], width: try inputs[Self.width], y: try inputs[Self.y],
            x: try inputs[Self.x]
        )
        let strength = try inputs[Self.strength]
        return NodeOutputs(
            try inputs[Self.conditioning].updatingEntries { entry in
                entry.area = nil
                entry.areaFraction = fraction
                entry.strength = strength
                entry.setAreaToBounds = false
            })
    }
}
