import Foundation
import LatentflowTensor

/// LCM that enlarges the latent as it goes: after each of the first steps the denoised
/// prediction is resized towards `totalUpscale` times the starting size, then noised afresh to
/// the next sigma with torch's global generator (`randn_like`), which continues from the initial
/// noise's draw.
///
/// Matches: ComfyUI `comfy_extras/nodes_advanced_samplers.py` `sample_lcm_upscale`.
public struct LCMUpscale: SamplerAlgorithm {
    /// Resizes a `[B, C, H, W]` latent to (width, height) (`common_upscale` with crop disabled).
    public typealias Resize = @Sendable (_ latent: Tensor, _ width: Int, _ height: Int) throws -> Tensor

    public let totalUpscale: Double
    /// How many steps resize; nil: about half of them.
    public let upscaleSteps: Int?
    public let resize: Resize

    public var names: [SamplerName] { [] }

    public init(totalUpscale: Double, upscaleSteps: Int?, resize: @escaping Resize) {
        (self.totalUpscale, self.upscaleSteps, self.resize) = (totalUpscale, upscaleSteps, resize)
    }

    /// The scale after each resizing step: `np.linspace(1, total, n)[1:]` in float64.
    static func scales(total: Double, steps: Int) -> [Double] {
        guard steps > 1 else { return [] }
        let step = (total - 1) / Double(steps - 1)
        return (1..<steps).map { $0 == steps - 1 ? total : Double($0) * step + 1 }
    }

    public func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let count = upscaleSteps.map { min($0 + 1, sigmas.count + 1) } ?? max(sigmas.count / 2 + 1, 2)
        let scales = Self.scales(total: totalUpscale, steps: count)
        let (height, width) = (x.dim(2), x.dim(3))
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, _, denoised in
            var result = denoised
            if step.i < scales.count {
                // Python's round: half to even.
                let scale = scales[step.i]
                result = try resize(
                    result, Int((Double(width) * scale).rounded(.toNearestOrEven)),
                    Int((Double(height) * scale).rounded(.toNearestOrEven)))
            }
            guard step.next > 0 else { return result }
            return try result.adding(noise.nextAfterInitialNoise(like: result).scaled(by: step.next))
        }
    }
}
