import LatentflowGraph
import LatentflowTensor

/// Restricts a conditioning to a mask, with a strength; "mask bounds" also runs the model only
/// on the mask's bounding box.
///
/// Matches: ComfyUI `nodes.py` `ConditioningSetMask.append` (sets `mask`, `set_area_to_bounds`,
/// `mask_strength`); sampling resolves the mask in `Conditioning.resolvedForSampling`.
public struct ConditioningSetMask: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let mask = Input<Mask>("mask")
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)
    static let setCondArea = Input.combo("set_cond_area", options: ["default", "mask bounds"])

    public static let schema = NodeSchema(
        "ConditioningSetMask", displayName: "Conditioning (Set Mask)", category: "conditioning",
        inputs: [conditioning, mask, strength, setCondArea], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var mask = try inputs[Self.mask].values
        if mask.rank == 2 { mask = try mask.reshaped([1] + mask.shape) }
        guard mask.rank == 3 else {
            throw NodeError("ConditioningSetMask: input 'mask' must be [batch, height, width], got \(mask.shape)")
        }
        let strength = try inputs[Self.strength]
        // Any option but "default" sets the area to the bounds, as ComfyUI's `!= "default"`.
        let toBounds = try inputs[Self.setCondArea] != "default"
        let masked = mask
        return NodeOutputs(
            try inputs[Self.conditioning].updatingEntries { entry in
                entry.mask = masked
                entry.maskStrength = strength
                entry.setAreaToBounds = toBounds
            })
    }
}

extension Conditioning {
    /// The conditioning as sampling a latent of `height` × `width` uses it (ComfyUI
    /// `resolve_areas_and_cond_masks_multidim`): fractional areas in latent pixels, masks resized
    /// to the latent (bilinear, `common_upscale`), and "mask bounds" areas set to the bounding box
    /// of the nonzero mask over the batch (at least 8×8; an all-zero mask gives (8, 8, 0, 0)).
    func resolvedForSampling(height: Int, width: Int) throws -> Conditioning {
        var resolved = resolvingAreaFractions(height: height, width: width)
        for index in resolved.entries.indices {
            guard var mask = resolved.entries[index].mask else { continue }
            if mask.rank == 2 { mask = try mask.reshaped([1] + mask.shape) }
            guard mask.rank == 3 else {
                throw NodeError("conditioning mask must be [batch, height, width], got \(mask.shape)")
            }
            if mask.dim(1) != height || mask.dim(2) != width {
                let planes = try mask.reshaped([mask.dim(0), 1, mask.dim(1), mask.dim(2)])
                mask = try commonUpscale(planes, width: width, height: height, method: "bilinear", crop: "disabled")
                    .reshaped([mask.dim(0), height, width])
            }
            resolved.entries[index].mask = mask
            if resolved.entries[index].setAreaToBounds { resolved.entries[index].area = Self.bounds(of: mask) }
        }
        return resolved
    }

    /// `get_mask_aabb` of `max(|mask|)` over the batch, as (height, width, y, x) with sides of at least 8.
    static func bounds(of mask: Tensor) -> (height: Int, width: Int, y: Int, x: Int) {
        let (n, h, w) = (mask.dim(0), mask.dim(1), mask.dim(2))
        var (top, left, bottom, right) = (Int.max, Int.max, -1, -1)
        mask.withUnsafeBufferPointer { m in
            for b in 0..<n {
                for y in 0..<h {
                    for x in 0..<w where m[(b * h + y) * w + x] != 0 {
                        (top, left) = (min(top, y), min(left, x))
                        (bottom, right) = (max(bottom, y), max(right, x))
                    }
                }
            }
        }
        guard bottom >= 0 else { return (height: 8, width: 8, y: 0, x: 0) }
        return (height: max(8, bottom - top + 1), width: max(8, right - left + 1), y: top, x: left)
    }
}
