import LatentflowTensor

/// FreSca's pre-CFG function: the guidance cond − uncond filtered in frequency (`scaleLow` on the
/// centred low-frequency box of half-width min(cutoff, size/2) per axis, `scaleHigh` elsewhere) and
/// added back to uncond as the new positive; unchanged when cfg 1 skipped the negative.
///
/// Matches: ComfyUI `comfy_extras/nodes_fresca.py` `Fourier_filter` and `FreSca`'s
/// `custom_cfg_function` (a `sampler_pre_cfg_function`). The filter runs as `fourierBoxScaled`, a
/// separable projection in double: the project has no FFT library on Linux, and a two-valued
/// mask needs none.
public enum FreScaGuidance {
    public static func apply(_ p: CFGPredictions, scaleLow: Double, scaleHigh: Double, cutoff: Int) throws
        -> CFGPredictions
    {
        if p.uncondSkipped { return p }
        let guidance = try p.cond.subtracting(p.uncond)
        guard guidance.rank == 4 else { return p }
        let rows = min(cutoff, guidance.dim(2) / 2), cols = min(cutoff, guidance.dim(3) / 2)
        let filtered = try guidance.fourierBoxScaled(
            rows: rows, cols: cols, inside: Float(scaleLow), outside: Float(scaleHigh))
        var result = p
        result.cond = try filtered.adding(p.uncond)
        return result
    }
}
