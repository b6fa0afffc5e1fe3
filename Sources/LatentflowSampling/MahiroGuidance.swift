import LatentflowTensor

/// Mahiro's post-CFG function: blends the guided prediction with the positive alone scaled by cfg
/// ("leap"), weighted by how alike the signed square roots of the scaled negative and of
/// (leap + guided) / 2 are: their cosine similarity over channels, averaged over batch and pixels.
///
/// Matches: ComfyUI `comfy_extras/nodes_mahiro.py` `Mahiro.mahiro_normd` (F.cosine_similarity on
/// dim 1, eps 1e-8).
public enum MahiroGuidance {
    public static func apply(_ p: CFGPredictions, denoised: Tensor) throws -> Tensor {
        let scale = Float(p.cfg)
        let leap = p.cond.scaled(by: scale), negativeLeap = p.uncond.scaled(by: scale)
        let merge = try leap.adding(denoised).scaled(by: 0.5)
        func signedRoot(_ t: Tensor) -> Tensor {
            t.mapScalars { $0 == 0 ? 0 : abs($0).squareRoot() * ($0 < 0 ? -1 : 1) }
        }
        let similarity = meanChannelCosine(signedRoot(negativeLeap), signedRoot(merge))
        let weight = 2 * (similarity + 1)
        return try denoised.scaled(by: weight).adding(leap.scaled(by: 4 - weight)).scaled(by: 0.25)
    }

    /// The mean over (batch, pixels) of the cosine similarity of `a` and `b` along channels.
    static func meanChannelCosine(_ a: Tensor, _ b: Tensor) -> Float {
        let (n, c) = (a.dim(0), a.dim(1))
        let plane = a.count / max(n * c, 1)
        var total = 0.0
        for batch in 0..<n {
            for i in 0..<plane {
                var (dot, normA, normB) = (0.0, 0.0, 0.0)
                for channel in 0..<c {
                    let index = (batch * c + channel) * plane + i
                    let (x, y) = (Double(a.scalars[index]), Double(b.scalars[index]))
                    (dot, normA, normB) = (dot + x * y, normA + x * x, normB + y * y)
                }
                total += dot / (max(normA.squareRoot(), 1e-8) * max(normB.squareRoot(), 1e-8))
            }
        }
        return Float(total / Double(max(n * plane, 1)))
    }
}
