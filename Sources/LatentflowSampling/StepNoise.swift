import LatentflowTensor

/// The noise ancestral and LCM samplers add between steps: a fresh PyTorch CPU generator seeded
/// with the sampling seed (+ an offset: 0 in ComfyUI up to late 2025, 1 after its PR #11528),
/// one `randn(x.shape)` per call, as `default_noise_sampler`.
public struct StepNoise {
    private var generator: TorchCPUGenerator
    /// The sampling seed itself, which seeds the SDE samplers' Brownian tree (no offset there).
    public let seed: UInt64
    /// The generator that drew the initial noise, where that draw left it: torch's global
    /// generator, which `prepare_noise` seeds (`torch.manual_seed`) and a sampler calling
    /// `default_noise_sampler(x)` without a seed (ComfyUI-TCD's `sample_tcd`) goes on drawing from.
    private var initialNoiseStream: TorchCPUGenerator

    public init(seed: UInt64, offset: UInt64 = 0, initialNoiseStream: TorchCPUGenerator? = nil) {
        self.seed = seed
        generator = TorchCPUGenerator(seed: seed &+ offset)
        self.initialNoiseStream = initialNoiseStream ?? TorchCPUGenerator(seed: seed)
    }

    public mutating func next(like x: Tensor) throws -> Tensor { try generator.randn(x.shape) }

    /// The next draw of torch's global generator after the initial noise (see `initialNoiseStream`).
    public mutating func nextAfterInitialNoise(like x: Tensor) throws -> Tensor {
        try initialNoiseStream.randn(x.shape)
    }
}
