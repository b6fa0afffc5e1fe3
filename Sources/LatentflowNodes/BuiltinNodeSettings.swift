import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// The built-in pack's settings, one value handed to the engine's environment by whoever builds
/// it (the facade's `EngineConfiguration`); nodes read it with `environment.builtinSettings`.
public final class BuiltinNodeSettings: Sendable {
    /// Low-memory mode: loaders leave weights in their files, read and widened layer by layer as
    /// the models run (less memory, some time spent widening).
    public let lowMemory: Bool
    /// The per-step noise seed offset of ancestral and LCM samplers: 0 reproduces ComfyUI up to
    /// late 2025 on CPU (the default), 1 later versions (its PR #11528).
    public let stepNoiseSeedOffset: UInt64
    /// The most one node may ask for at once, in bytes: image and latent producing nodes check
    /// their output's size against it before allocating, and LoadImage the decoded size before
    /// decoding (`checkAllocation`). Defaults to 75% of the machine's memory.
    public let memoryBudgetBytes: Int
    /// How samplers preview their steps (ComfyUI's `--preview-method`, `--preview-size`); none by default.
    public let preview: PreviewSettings
    /// What loaded UNets compute in (ComfyUI's `--bf16-unet` gives bfloat16); ModelComputeDtype
    /// overrides it per MODEL.
    public let unetPrecision: ProductPrecision

    public init(
        lowMemory: Bool = false, stepNoiseSeedOffset: UInt64 = 0, memoryBudgetBytes: Int = MemoryBudget.defaultBytes,
        preview: PreviewSettings = PreviewSettings(), unetPrecision: ProductPrecision = .float32
    ) {
        self.unetPrecision = unetPrecision
        self.lowMemory = lowMemory
        self.stepNoiseSeedOffset = stepNoiseSeedOffset
        self.memoryBudgetBytes = memoryBudgetBytes
        self.preview = preview
    }

    /// How loaders keep checkpoint weights: in their file in low-memory mode, else in float32.
    public var weightResidency: WeightResidency { lowMemory ? .streamed : .float32 }

    /// How loaders keep a UNet's weights: as `weightResidency`, but in bfloat16 when UNets compute in
    /// bfloat16 (`--bf16-unet`, which stores the UNet in bfloat16 as ComfyUI's flag does: half the
    /// memory, and the products' bfloat16 forms are made from these values).
    public var unetResidency: WeightResidency {
        lowMemory ? .streamed : unetPrecision == .bfloat16 ? .bfloat16 : .float32
    }
}

extension ExecutionEnvironment {
    /// The settings handed in, or the defaults.
    var builtinSettings: BuiltinNodeSettings { service(BuiltinNodeSettings.self) { BuiltinNodeSettings() } }
}
