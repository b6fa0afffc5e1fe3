import LatentflowTensor

/// Kohya's "Deep Shrink": early in sampling, the features after one input block are downscaled,
/// and the decoder scales its features back up to each skip connection's size.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_downscale.py` `PatchModelAddDownscale`.
public struct DeepShrink: Sendable {
    /// The input block whose output is shrunk (ComfyUI numbering: 0 is `conv_in`).
    public var block: Int
    public var factor: Double
    /// Shrinks while `sigmaEnd ≤ sigma ≤ sigmaStart`.
    public var sigmaStart: Float, sigmaEnd: Float
    public var downscale: FeatureResampling, upscale: FeatureResampling

    public init(
        block: Int, factor: Double, sigmaStart: Float, sigmaEnd: Float, downscale: FeatureResampling,
        upscale: FeatureResampling
    ) {
        (self.block, self.factor, self.sigmaStart, self.sigmaEnd) = (block, factor, sigmaStart, sigmaEnd)
        (self.downscale, self.upscale) = (downscale, upscale)
    }

    /// The input block patch (`input_block_patch_after_skip` or `input_block_patch`).
    public var inputBlockPatch: UNetPatches.Block {
        let shrink = self
        return { h, block, call in
            guard block == shrink.block, let sigma = call.sigma, sigma <= shrink.sigmaStart, sigma >= shrink.sigmaEnd
            else { return h }
            // Python's round(size * (1.0 / factor)): half to even, on the reciprocal as ComfyUI forms it.
            func shrunk(_ size: Int) -> Int { Int((Double(size) * (1.0 / shrink.factor)).rounded(.toNearestOrEven)) }
            let (height, width) = (shrunk(h.dim(2)), shrunk(h.dim(3)))
            guard height > 0, width > 0 else {
                throw TensorError.shapeMismatch(
                    "PatchModelAddDownscale: downscale_factor \(shrink.factor) shrinks \(h.dim(2))x\(h.dim(3)) "
                        + "features to nothing")
            }
            return try shrink.downscale.apply(h, height: height, width: width)
        }
    }

    /// The output block patch: features whose height differs from the skip's are resized to it.
    public var outputBlockPatch: UNetPatches.OutputBlock {
        let upscale = upscale
        return { h, skip, _, _ in
            guard h.dim(2) != skip.dim(2) else { return (h, skip) }
            return (try upscale.apply(h, height: skip.dim(2), width: skip.dim(3)), skip)
        }
    }
}

/// How Deep Shrink resizes features: ComfyUI's `common_upscale` methods (`F.interpolate` modes,
/// or its `bislerp`).
public enum FeatureResampling: Sendable, Equatable {
    case interpolate(ResizeMode)
    case bislerp

    /// The method by ComfyUI's name; nil for a name it does not offer here.
    public init?(method: String) {
        if method == "bislerp" {
            self = .bislerp
        } else if let mode = ResizeMode(rawValue: method) {
            self = .interpolate(mode)
        } else {
            return nil
        }
    }

    func apply(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        switch self {
        case .interpolate(let mode): return try x.resized(height: height, width: width, mode: mode)
        case .bislerp: return try x.bislerped(height: height, width: width)
        }
    }
}
