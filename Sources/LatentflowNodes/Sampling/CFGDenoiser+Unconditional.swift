import LatentflowGraph
import LatentflowTensor

extension CFGDenoiser {
    /// The guided prediction with the unconditional one, which the CFG++ samplers step along.
    func denoiseWithUnconditional(_ x: Tensor, sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor) {
        guard let guidedWithUnconditional else {
            throw NodeError(
                "the CFG++ samplers need CFGGuider's guidance; PerpNegGuider does not hand them its negative")
        }
        return try guidedWithUnconditional(x, sigma)
    }
}
