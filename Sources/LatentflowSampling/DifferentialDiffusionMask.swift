import LatentflowTensor

/// Differential Diffusion's denoise-mask function: at each step a soft mask becomes the binary
/// mask of where it reaches the schedule's progress, so greyer regions start changing later.
///
/// Matches: ComfyUI `comfy_extras/nodes_differential_diffusion.py` `DifferentialDiffusion.forward`.
public enum DifferentialDiffusionMask {
    /// The step's mask: 1 where `mask` ≥ the progress threshold (the current timestep's place
    /// between the schedule's first and last), blended with `mask` by a strength below 1.
    public static func mask(
        _ mask: Tensor, sigma: Float, sigmas: [Float], sampling: ModelSampling, strength: Double
    ) throws -> Tensor {
        guard let first = sigmas.first, let last = sigmas.last else { return mask }
        let sigmaTo = max(sampling.sigmaMin, last)
        let (tsFrom, tsTo) = (sampling.timestep(first), sampling.timestep(sigmaTo))
        // ComfyUI's integer timesteps divide as floats; a zero range gives NaN (no pixel passes).
        let threshold = (sampling.timestep(sigma) - tsTo) / (tsFrom - tsTo)
        let binary = mask.mapScalars { $0 >= threshold ? 1 : 0 }
        guard strength != 0, strength < 1 else { return binary }
        let s = Float(strength)
        return try binary.scaled(by: s).adding(mask.scaled(by: 1 - s))
    }
}
