import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// ComfyUI's MODEL: the UNet, how sigmas map onto it and its guidance patches. Patching nodes
/// (ModelSamplingDiscrete, RescaleCFG, …) return a new value that shares the UNet.
public struct DiffusionModel: PortValue, MemoryFootprint {
    public static var portType: PortType { .model }
    public var unet: UNet
    public var sampling: ModelSampling
    public let byteCount: Int
    /// The weights the UNet was built from (LDM keys), for LoRA patching.
    public var weights: [String: Parameter] {
        willSet { if originalWeights == nil { originalWeights = weights } }
    }
    /// The weights before any LoRA, merge or attention scaling patched them (ComfyUI's patch
    /// backups, `get_key_patches`): what a checkpoint-as-LoRA hook takes its difference from.
    /// Nil: `weights` are unpatched.
    public private(set) var originalWeights: [String: Parameter]?
    /// For LCM-distilled UNets with a guidance embedding: the w it encodes (nil: diffusers'
    /// default guidance_scale 8.5, i.e. w = 7.5).
    public var lcmGuidance: Float?
    /// What sampling multiplies latents by on the way in (ComfyUI keeps it as the model's
    /// `latent_format`); loaders take it from the checkpoint's VAE.
    public var latentScale: Float = LatentFormat.sd15.scaleFactor
    /// The guidance patches (RescaleCFG, CFGZeroStar, PAG, …), in the order they were applied.
    public var guidance: [GuidancePatch] = []
    /// Changes the noise mask at each step (ComfyUI's `denoise_mask_function`: DifferentialDiffusion);
    /// the last one set applies.
    public var denoiseMaskFunction: DenoiseMaskFunction?
    /// The block and attention patches patch nodes added (ComfyUI's `model_options["transformer_options"]
    /// ["patches"]`); they outlive LoRA and merges, which rebuild the UNet.
    public var patches = UNetPatches()
    /// Wrap each sampling run's whole guided prediction (ComfyUI's `PREDICT_NOISE` wrappers:
    /// LazyCache), the first added innermost.
    public var predictionWrappers: [PredictionWrapper] = []
    /// EasyCache's settings (ComfyUI's `transformer_options["easycache"]`); nil: none.
    public var easyCache: EasyCacheSettings?
    /// What the UNet's products compute in (ModelComputeDtype, `--bf16-unet`); float32 by default.
    /// A LoRA or merge keeps it: it belongs to the MODEL, not to the weights.
    public var computePrecision: ProductPrecision = .float32

    public init(
        unet: UNet, sampling: ModelSampling = ModelSampling(), byteCount: Int, weights: [String: Parameter] = [:]
    ) {
        (self.unet, self.sampling, self.byteCount) = (unet, sampling, byteCount)
        self.weights = weights
        originalWeights = nil
    }

    /// A loaded checkpoint's UNet, read as eps or v-prediction as ComfyUI guesses from its weights.
    public init(_ models: StableDiffusionModels, computePrecision: ProductPrecision = .float32) {
        let parameterization: Parameterization = models.prediction == .vPrediction ? .vPrediction : .eps
        self.init(
            unet: models.unet, sampling: ModelSampling(parameterization: parameterization), byteCount: models.unetBytes,
            weights: models.unetWeights)
        latentScale = models.vae.latentFormat.scaleFactor
        self.computePrecision = computePrecision
    }
}

/// ComfyUI's CLIP: the text encoder, its tokenizer and the layer to stop at.
public struct TextEncoder: PortValue, MemoryFootprint {
    public static var portType: PortType { .clip }
    public var model: CLIPTextModel
    public let tokenizer: CLIPTokenizer
    /// -1 = last layer; -2 = penultimate ("clip skip 2"). Starts at the model's default (SD2: -2).
    public var lastLayer: Int
    public let byteCount: Int
    /// The weights the model was built from (HF keys without `text_model.`), for LoRA patching.
    public var weights: [String: Parameter] {
        willSet { if originalWeights == nil { originalWeights = weights } }
    }
    public var weightsAreFloat16: Bool
    /// The weights before any LoRA, merge or attention scaling patched them (see DiffusionModel's).
    public private(set) var originalWeights: [String: Parameter]?
    /// SetClipHooks' hooks: they patch the model while it encodes (ComfyUI's `forced_hooks`).
    public var hooks = Hooks()
    /// The hooks the conditionings it encodes carry (ComfyUI's `apply_hooks_to_conds`); nil: none.
    public var hooksForConditioning: Hooks?
    /// Encode once per span of the hooks' keyframes, each entry limited to its span (ComfyUI's
    /// `use_clip_schedule`).
    public var schedulesHooks = false

    public init(
        model: CLIPTextModel, tokenizer: CLIPTokenizer = .shared, byteCount: Int,
        weights: [String: Parameter] = [:], weightsAreFloat16: Bool = false
    ) {
        (self.model, self.tokenizer, self.byteCount, self.weights, self.weightsAreFloat16) = (
            model, tokenizer, byteCount, weights, weightsAreFloat16
        )
        lastLayer = model.config.defaultLastLayer
    }

    /// Encodes prompts with this model, tokenizer and last layer.
    public var promptEncoder: WeightedPromptEncoder {
        WeightedPromptEncoder(model: model, tokenizer: tokenizer, lastLayer: lastLayer)
    }
}

/// ComfyUI's VAE: an AutoencoderKL, a TAESD or the pixel-space identity.
public struct VAEModel: PortValue, MemoryFootprint {
    public static var portType: PortType { .vae }
    public let autoencoder: any ImageAutoencoder
    public let byteCount: Int
    /// The weights the VAE was built from (LDM keys without `first_stage_model.`), for VAESave
    /// and CheckpointSave.
    public var weights: [String: Parameter]

    public init(autoencoder: any ImageAutoencoder, byteCount: Int, weights: [String: Parameter] = [:]) {
        (self.autoencoder, self.byteCount, self.weights) = (autoencoder, byteCount, weights)
    }
}

/// ComfyUI's CONDITIONING: a list of text encodings, each with optional area and strength.
public struct Conditioning: PortValue, MemoryFootprint {
    public static var portType: PortType { .conditioning }

    public struct Entry: Sendable {
        /// `[1, 77·k, width]`.
        public var embedding: Tensor
        /// (height, width, y, x) in latent pixels (ComfyUI stores `area` as h//8, w//8, y//8, x//8).
        public var area: (height: Int, width: Int, y: Int, x: Int)?
        public var strength: Double = 1
        /// The part of sampling this entry applies to, as fractions of the schedule
        /// (ComfyUI's `start_percent`/`end_percent`; nil: not set).
        public var startPercent: Double?
        public var endPercent: Double?
        /// An area as fractions of the latent (height, width, y, x), set instead of `area` by
        /// ConditioningSetAreaPercentage; sampling resolves it against the latent's size.
        public var areaFraction: (height: Double, width: Double, y: Double, x: Double)?
        /// For inpainting UNets (InpaintModelConditioning): the masked image's latent, unscaled
        /// (ComfyUI's `concat_latent_image`), and the pixel-space mask (`concat_mask`); nil: the
        /// sampled latent and its noise mask stand in.
        public var concatLatentImage: Tensor?
        public var concatMask: Tensor?
        /// The ControlNets / T2I-Adapters applied to this entry (ComfyUI's `control`), last applied first.
        public var control: ControlApplication?
        /// Set by the old ControlNetApply: the control also serves the negative side when that has none
        /// (ComfyUI's `control_apply_to_uncond`).
        public var controlAppliesToUncond = false
        /// The GLIGEN boxes of GLIGENTextBoxApply (ComfyUI's `gligen`).
        public var gligen: GLIGENConditioning?
        /// ConditioningSetMask's mask `[B, H, W]` at any size (ComfyUI's `mask`): sampling resizes it
        /// to the latent and weights this entry's prediction by it, times `maskStrength`.
        public var mask: Tensor?
        public var maskStrength: Double = 1
        /// ComfyUI's `set_area_to_bounds`: sampling sets `area` to the mask's bounding box.
        public var setAreaToBounds = false
        /// SD_4XUpscale_Conditioning's low-resolution image `[B, 3, h, w]` in −1…1 and its noise
        /// augmentation (ComfyUI's `concat_image`, `noise_augmentation`), for the x4 upscaler UNet,
        /// which Latentflow does not load: other models ignore them, as in ComfyUI.
        public var concatImage: Tensor?
        public var noiseAugmentation: Double?
        /// CLIPTextEncodeControlnet's text tokens `[1, L, width]` (ComfyUI's `cross_attn_controlnet`):
        /// the ControlNets of this entry attend to them instead of `embedding`; the UNet keeps `embedding`.
        public var controlContext: Tensor?
        /// The span of sampling a CLIP-scheduled encoding belongs to (ComfyUI's `clip_start_percent`,
        /// `clip_end_percent`): sampling uses it within `startPercent`…`endPercent`.
        public var clipStartPercent: Double?
        public var clipEndPercent: Double?
        /// unCLIPConditioning's image embeddings, in apply order (ComfyUI's `unclip_conditioning`):
        /// an unCLIP UNet's `y` is made from them (`UnCLIPNoiseAugmentation`); other UNets ignore them.
        public var unclip: [UnCLIPNoiseAugmentation.Image] = []
        /// The hooks patching the UNet for this entry only (ComfyUI's `hooks`); empty: none.
        public var hooks = Hooks()
        /// ConditioningSetDefaultCombine's entries (ComfyUI's `default`): sampling runs them only
        /// where the side's other entries leave weight below 1, with that remainder as weight.
        public var isDefault = false

        public init(embedding: Tensor, area: (height: Int, width: Int, y: Int, x: Int)? = nil, strength: Double = 1) {
            (self.embedding, self.area, self.strength) = (embedding, area, strength)
        }
    }

    public var entries: [Entry]
    public var byteCount: Int { entries.reduce(0) { $0 + $1.embedding.count * 4 + ($1.control?.byteCount ?? 0) } }

    public init(_ entries: [Entry]) { self.entries = entries }

    /// Fractional areas turned into latent pixels for a latent of `height` × `width` (ComfyUI
    /// `resolve_areas_and_cond_masks_multidim`: Python `round`, sizes at least 1).
    public func resolvingAreaFractions(height: Int, width: Int) -> Conditioning {
        Conditioning(
            entries.map { entry in
                guard let fraction = entry.areaFraction else { return entry }
                func scaled(_ f: Double, _ size: Int) -> Int { Int((f * Double(size)).rounded(.toNearestOrEven)) }
                var copy = entry
                copy.area = (
                    height: max(1, scaled(fraction.height, height)), width: max(1, scaled(fraction.width, width)),
                    y: scaled(fraction.y, height), x: scaled(fraction.x, width)
                )
                copy.areaFraction = nil
                return copy
            })
    }
}

/// ComfyUI's LATENT: unscaled VAE-space samples `[B, 4, H/8, W/8]`, and which batch indices
/// they are (that decides their noise).
public struct Latent: PortValue, MemoryFootprint {
    public static var portType: PortType { .latent }
    public var samples: Tensor
    public var batchIndex: [Int]?
    /// Where sampling may change the latent (ComfyUI's `noise_mask`, e.g. `[B, 1, H, W]` at pixel
    /// or latent size): 1 denoises, 0 keeps. Nil: everywhere.
    public var noiseMask: Tensor?

    public init(_ samples: Tensor, batchIndex: [Int]? = nil, noiseMask: Tensor? = nil) {
        (self.samples, self.batchIndex, self.noiseMask) = (samples, batchIndex, noiseMask)
    }
    public var byteCount: Int { (samples.count + (noiseMask?.count ?? 0)) * 4 }
}
