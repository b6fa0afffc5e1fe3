import LatentflowGraph
import LatentflowModels

/// The merge nodes' shared step: `WeightMerge` on copies of the two models' weights, then the
/// UNet or text model rebuilt from the result (as LoraLoader rebuilds it). The first model's
/// settings (sampling, latent format, last layer) carry over, as ComfyUI's `model1.clone()`.
enum MergeAdapter {
    static func merge(
        _ model1: DiffusionModel, _ model2: DiffusionModel, context: ExecutionContext,
        strengths: (String) -> WeightMerge.Strengths?
    ) throws -> DiffusionModel {
        guard !model1.weights.isEmpty, !model2.weights.isEmpty else {
            throw NodeError("model1 or model2 carries no weights to merge")
        }
        let result = try WeightMerge.merge(model1.weights, with: model2.weights, strengths: strengths)
        report(result, context: context)
        var merged = model1
        merged.weights = result.weights
        merged.unet = UNet(WeightStore(result.weights, source: "merged model").root, config: model1.unet.config)
        return merged
    }

    static func merge(
        _ clip1: TextEncoder, _ clip2: TextEncoder, context: ExecutionContext,
        strengths: @escaping (String) -> WeightMerge.Strengths?
    ) throws -> TextEncoder {
        guard !clip1.weights.isEmpty, !clip2.weights.isEmpty else {
            throw NodeError("clip1 or clip2 carries no weights to merge")
        }
        // ComfyUI's CLIP merge nodes leave `position_ids` and `logit_scale` alone.
        let result = try WeightMerge.merge(
            clip1.weights, with: clip2.weights, float16Weights: clip1.weightsAreFloat16
        ) { key in
            key.hasSuffix("position_ids") || key.hasSuffix("logit_scale") ? nil : strengths(key)
        }
        report(result, context: context)
        var merged = clip1
        merged.weights = result.weights
        merged.model = CLIPTextModel(
            WeightStore(result.weights, source: "merged text encoder").root, config: clip1.model.config)
        return merged
    }

    static func report(_ result: WeightMerge.Result, context: ExecutionContext) {
        guard !result.shapeMismatches.isEmpty else { return }
        context.warn(
            "\(result.shapeMismatches.count) weight(s) differ in shape and were not merged: "
                + result.shapeMismatches.prefix(8).joined(separator: ", ")
                + (result.shapeMismatches.count > 8 ? ", …" : ""))
    }
}
