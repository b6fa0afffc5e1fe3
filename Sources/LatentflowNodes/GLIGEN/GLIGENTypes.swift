import LatentflowGraph
import LatentflowModels

extension PortType {
    public static let gligen: PortType = "GLIGEN"
}

/// ComfyUI's GLIGEN: a loaded GLIGEN box model.
public struct GLIGENValue: PortValue, MemoryFootprint {
    public static var portType: PortType { .gligen }
    public let model: GLIGEN
    public var byteCount: Int { model.byteCount }

    public init(_ model: GLIGEN) { self.model = model }
}

/// The GLIGEN boxes of a conditioning entry: ComfyUI's `("position", gligen, [(cond_pooled, h, w,
/// y, x), ...])` under the cond's `gligen` key.
public struct GLIGENConditioning: Sendable {
    public let model: GLIGEN
    public var boxes: [GLIGENBox]

    public init(model: GLIGEN, boxes: [GLIGENBox]) { (self.model, self.boxes) = (model, boxes) }
}
