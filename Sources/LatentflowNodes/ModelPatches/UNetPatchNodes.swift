import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// FreeU: scales the decoder's backbone features and damps the low frequencies of its skip features.
///
/// Matches: ComfyUI `comfy_extras/nodes_freelunch.py` `FreeU`.
public struct FreeU: Node {
    static let model = Input<DiffusionModel>("model")
    static let b1 = Input.float("b1", default: 1.1, min: 0, max: 10, step: 0.01)
    static let b2 = Input.float("b2", default: 1.2, min: 0, max: 10, step: 0.01)
    static let s1 = Input.float("s1", default: 0.9, min: 0, max: 10, step: 0.01)
    static let s2 = Input.float("s2", default: 0.2, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "FreeU", category: "model_patches/unet",
        description: "Scales the decoder's backbone features (b1, b2) and the low frequencies of its skip "
            + "connections (s1, s2) on its two deepest widths.",
        inputs: [model, b1, b2, s1, s2], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try freeUPatched(inputs, b1: Self.b1, b2: Self.b2, s1: Self.s1, s2: Self.s2, version: .v1))
    }
}

/// FreeU_V2: FreeU with the backbone scale weighted by the normalized channel mean.
///
/// Matches: ComfyUI `comfy_extras/nodes_freelunch.py` `FreeU_V2`.
public struct FreeU_V2: Node {
    static let model = Input<DiffusionModel>("model")
    static let b1 = Input.float("b1", default: 1.3, min: 0, max: 10, step: 0.01)
    static let b2 = Input.float("b2", default: 1.4, min: 0, max: 10, step: 0.01)
    static let s1 = Input.float("s1", default: 0.9, min: 0, max: 10, step: 0.01)
    static let s2 = Input.float("s2", default: 0.2, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "FreeU_V2", category: "model_patches/unet",
        description: "FreeU with the backbone scale weighted, per pixel, by the normalized mean of the features.",
        inputs: [model, b1, b2, s1, s2], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try freeUPatched(inputs, b1: Self.b1, b2: Self.b2, s1: Self.s1, s2: Self.s2, version: .v2))
    }
}

private func freeUPatched(
    _ inputs: NodeInputs, b1: Input<Double>, b2: Input<Double>, s1: Input<Double>, s2: Input<Double>,
    version: FreeUPatch.Version
) throws -> DiffusionModel {
    var model = try inputs[Input<DiffusionModel>("model")]
    model.patches.outputBlock.append(
        FreeUPatch.outputBlockPatch(
            modelChannels: model.unet.config.modelChannels, b1: Float(try inputs[b1]), b2: Float(try inputs[b2]),
            s1: Float(try inputs[s1]), s2: Float(try inputs[s2]), version: version))
    return model
}

/// Kohya's Deep Shrink: downscales the features after one input block for the first part of sampling.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_downscale.py` `PatchModelAddDownscale`.
public struct PatchModelAddDownscale: Node {
    static let methods = ["bicubic", "nearest-exact", "bilinear", "area", "bislerp"]
    static let model = Input<DiffusionModel>("model")
    static let blockNumber = Input.int("block_number", default: 3, min: 1, max: 32, step: 1)
    static let factor = Input.float("downscale_factor", default: 2.0, min: 0.1, max: 9.0, step: 0.001)
    static let startPercent = Input.float("start_percent", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let endPercent = Input.float("end_percent", default: 0.35, min: 0.0, max: 1.0, step: 0.001)
    static let afterSkip = Input.boolean("downscale_after_skip", default: true)
    static let downscaleMethod = Input.combo("downscale_method", options: methods)
    static let upscaleMethod = Input.combo("upscale_method", options: methods)

    public static let schema = NodeSchema(
        "PatchModelAddDownscale", displayName: "PatchModelAddDownscale (Kohya Deep Shrink)",
        category: "model_patches/unet",
        description: "Downscales the UNet's features after input block block_number between start_percent and "
            + "end_percent of sampling, and scales the decoder's back up to each skip connection.",
        inputs: [model, blockNumber, factor, startPercent, endPercent, afterSkip, downscaleMethod, upscaleMethod],
        outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        func mode(_ input: Input<String>) throws -> FeatureResampling {
            let name = try inputs[input]
            guard let mode = FeatureResampling(method: name) else { throw NodeError("unknown \(input.name) '\(name)'") }
            return mode
        }
        let shrink = DeepShrink(
            block: try inputs[Self.blockNumber], factor: try inputs[Self.factor],
            sigmaStart: model.sampling.percentToSigma(try inputs[Self.startPercent]),
            sigmaEnd: model.sampling.percentToSigma(try inputs[Self.endPercent]),
            downscale: try mode(Self.downscaleMethod), upscale: try mode(Self.upscaleMethod))
        if try inputs[Self.afterSkip] {
            model.patches.inputBlockAfterSkip.append(shrink.inputBlockPatch)
        } else {
            model.patches.inputBlock.append(shrink.inputBlockPatch)
        }
        model.patches.outputBlock.append(shrink.outputBlockPatch)
        return NodeOutputs(model)
    }
}

/// HyperTile: tiles self-attention on the shallow levels of the UNet.
///
/// Matches: ComfyUI `comfy_extras/nodes_hypertile.py` `HyperTile` (see `HyperTilePatch`
/// for its random tile counts).
public struct HyperTile: Node {
    static let model = Input<DiffusionModel>("model")
    static let tileSize = Input.int("tile_size", default: 256, min: 1, max: 2048)
    static let swapSize = Input.int("swap_size", default: 2, min: 1, max: 128)
    static let maxDepth = Input.int("max_depth", default: 0, min: 0, max: 10)
    static let scaleDepth = Input.boolean("scale_depth", default: false)

    public static let schema = NodeSchema(
        "HyperTile", category: "model_patches/unet",
        description: "Splits self-attention into tiles of about tile_size pixels on the UNet's first "
            + "max_depth + 1 levels.",
        inputs: [model, tileSize, swapSize, maxDepth, scaleDepth], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let tiling = HyperTilePatch(
            modelChannels: model.unet.config.modelChannels, tileSize: try inputs[Self.tileSize],
            swapSize: try inputs[Self.swapSize], maxDepth: try inputs[Self.maxDepth],
            scaleDepth: try inputs[Self.scaleDepth])
        model.patches.attn1.append(tiling.attentionPatch)
        model.patches.attn1Output.append(tiling.outputPatch)
        return NodeOutputs(model)
    }
}
