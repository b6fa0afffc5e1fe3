import LatentflowGraph
import LatentflowTensor

// The mask nodes of ComfyUI's `comfy_extras/nodes_mask.py` that reshape a mask's content:
// combining two masks, feathering edges, growing or shrinking.

/// One mask combined into another at an offset, clamped to 0...1.
///
/// Matches: `MaskComposite.execute` (and/or/xor on rounded values; the source is not repeated
/// over the batch, so its batch must be 1 or the destination's).
public struct MaskComposite: Node {
    static let destination = Input<Mask>("destination")
    static let source = Input<Mask>("source")
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 1)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 1)
    static let operation = Input.combo("operation", options: ["multiply", "add", "subtract", "and", "or", "xor"])
    public static let schema = NodeSchema(
        "MaskComposite", category: "mask", inputs: [destination, source, x, y, operation],
        outputs: outputs(Output<Mask>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let destination = try maskStack(try inputs[Self.destination].values, input: "destination")
        let source = try maskStack(try inputs[Self.source].values, input: "source")
        let (n, h, w) = (destination.dim(0), destination.dim(1), destination.dim(2))
        guard source.dim(0) == 1 || source.dim(0) == n else {
            throw NodeError(
                "input 'source': a batch of \(source.dim(0)) masks cannot be combined with a batch of \(n) (give 1 or \(n))"
            )
        }
        let left = min(try inputs[Self.x], w), top = min(try inputs[Self.y], h)
        let rows = min(source.dim(1), h - top), columns = min(source.dim(2), w - left)
        let combine = try Self.operation(try inputs[Self.operation])
        let sourceStride = source.dim(0) == 1 ? 0 : source.dim(1) * source.dim(2)
        var output = destination
        source.withUnsafeBufferPointer { s in
            output.withUnsafeMutableBufferPointer { out in
                for b in 0..<n {
                    for y in 0..<rows {
                        for x in 0..<columns {
                            let target = (b * h + top + y) * w + left + x
                            out[target] = combine(out[target], s[b * sourceStride + y * source.dim(2) + x])
                        }
                    }
                }
            }
        }
        return NodeOutputs(Mask(output.clamped(min: 0, max: 1)))
    }

    static func operation(_ name: String) throws -> (Float, Float) -> Float {
        func bit(_ v: Float) -> Bool { v.rounded(.toNearestOrEven) != 0 }
        switch name {
        case "multiply": return { $0 * $1 }
        case "add": return { $0 + $1 }
        case "subtract": return { $0 - $1 }
        case "and": return { bit($0) && bit($1) ? 1 : 0 }
        case "or": return { bit($0) || bit($1) ? 1 : 0 }
        case "xor": return { bit($0) != bit($1) ? 1 : 0 }
        default: throw NodeError("input 'operation': unknown operation '\(name)'")
        }
    }
}

/// Fades a mask linearly towards its edges over the given widths.
///
/// Matches: `FeatherMask.execute`, including its indexing: the right and bottom loops scale
/// `output[..., -x]`, so their first pass (x = 0) scales column/row 0, not the last one.
public struct FeatherMask: Node {
    static let mask = Input<Mask>("mask")
    static let left = Input.int("left", default: 0, min: 0, max: maxResolution, step: 1)
    static let top = Input.int("top", default: 0, min: 0, max: maxResolution, step: 1)
    static let right = Input.int("right", default: 0, min: 0, max: maxResolution, step: 1)
    static let bottom = Input.int("bottom", default: 0, min: 0, max: maxResolution, step: 1)
    public static let schema = NodeSchema(
        "FeatherMask", category: "mask", inputs: [mask, left, top, right, bottom], outputs: outputs(Output<Mask>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var output = try maskStack(try inputs[Self.mask].values, input: "mask")
        let (n, h, w) = (output.dim(0), output.dim(1), output.dim(2))
        let left = min(try inputs[Self.left], w), right = min(try inputs[Self.right], w)
        let top = min(try inputs[Self.top], h), bottom = min(try inputs[Self.bottom], h)
        // Python's index -i: 0 for i = 0, else size − i.
        func wrapped(_ i: Int, _ size: Int) -> Int { i == 0 ? 0 : size - i }
        output.withUnsafeMutableBufferPointer { out in
            func scaleColumn(_ x: Int, _ rate: Float) {
                for b in 0..<n { for y in 0..<h { out[(b * h + y) * w + x] *= rate } }
            }
            func scaleRow(_ y: Int, _ rate: Float) {
                for b in 0..<n { for x in 0..<w { out[(b * h + y) * w + x] *= rate } }
            }
            // The rates are Python floats (doubles), applied to float32 as torch does.
            for x in 0..<left { scaleColumn(x, Float((Double(x) + 1) / Double(left))) }
            for x in 0..<right { scaleColumn(wrapped(x, w), Float(Double(x + 1) / Double(right))) }
            for y in 0..<top { scaleRow(y, Float(Double(y + 1) / Double(top))) }
            for y in 0..<bottom { scaleRow(wrapped(y, h), Float(Double(y + 1) / Double(bottom))) }
        }
        return NodeOutputs(Mask(output))
    }
}

/// Grows (dilates) or shrinks (erodes) a mask by whole pixels, one 3x3 step per pixel.
///
/// Matches: `GrowMask.execute` (`scipy.ndimage.grey_dilation` / `grey_erosion` with a cross
/// footprint when `tapered_corners`, else the full 3x3; scipy's default `reflect` border, which
/// for a 3x3 footprint means only pixels inside the mask count).
public struct GrowMask: Node {
    static let mask = Input<Mask>("mask")
    static let expand = Input.int("expand", default: 0, min: -maxResolution, max: maxResolution, step: 1)
    static let taperedCorners = Input.boolean("tapered_corners", default: true)
    public static let schema = NodeSchema(
        "GrowMask", displayName: "Grow Mask", category: "mask", inputs: [mask, expand, taperedCorners],
        outputs: outputs(Output<Mask>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var output = try maskStack(try inputs[Self.mask].values, input: "mask")
        let expand = try inputs[Self.expand], tapered = try inputs[Self.taperedCorners]
        let (n, h, w) = (output.dim(0), output.dim(1), output.dim(2))
        // After h + w steps every pixel has seen the whole mask: more steps change nothing.
        for _ in 0..<min(abs(expand), h + w) {
            try context.checkCancellation()
            output = Self.step(output, n: n, h: h, w: w, grow: expand > 0, tapered: tapered)
        }
        return NodeOutputs(Mask(output))
    }

    static func step(_ mask: Tensor, n: Int, h: Int, w: Int, grow: Bool, tapered: Bool) -> Tensor {
        mask.withUnsafeBufferPointer { m in
            Tensor(shape: mask.shape) { out in
                for b in 0..<n {
                    for y in 0..<h {
                        for x in 0..<w {
                            var value = m[(b * h + y) * w + x]
                            for dy in -1...1 {
                                for dx in -1...1 where !(tapered && dy != 0 && dx != 0) {
                                    let (yy, xx) = (y + dy, x + dx)
                                    guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                                    let v = m[(b * h + yy) * w + xx]
                                    value = grow ? max(value, v) : min(value, v)
                                }
                            }
                            out[(b * h + y) * w + x] = value
                        }
                    }
                }
            }
        }
    }
}
