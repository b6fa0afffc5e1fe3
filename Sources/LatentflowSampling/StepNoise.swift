import LatentflowTensor

/// The noise ancestral and LCM samplers add between steps: a fresh PyTorch CPU generator seeded
/// with the sampling seed (+ an offset: 0 in ComfyUI up to late 2025, 1 after its PR #11528),
/// one `randn(x.shape)` per call, as `default_noise_sampler`.
public struct StepNoise {
    private var generator: TorchCPUGenerator
    /// The sampling seed itself, which seeds the SDE samplers' Brownian tree (no offset there).
    public let seed: UInt64

    public init(seed: UInt64, offset: UInt64 = 0) {
        self.seed = seed
        generator = TorchCPUGenerator(seed: seed &+ offset)
    }

    public mutating func next(like x: Tensor) throws -> Tensor { try generator.randn(x.shape) }
}
