import Foundation

/// What a UNet's output means: the noise (eps) or the velocity (v-prediction, SD2.x at 768 px).
public enum PredictionType: String, Sendable, Equatable {
    case epsilon = "eps"
    case vPrediction = "v_prediction"

    /// ComfyUI's guess for a checkpoint (`supported_models.SD20.model_type`): files carry no
    /// marker, but the SD2.x-768 v-prediction models have a spread-out LayerNorm bias in the last
    /// output transformer — population std of `output_blocks.11.1.transformer_blocks.0.norm1.bias`
    /// above 0.09. Only SD2.x-shaped UNets (1024-wide context, linear projections, 320 channels)
    /// with 4 input channels are asked (SD2 inpainting is eps); SD1.x is always eps.
    public static func guess(_ config: UNetConfiguration, weights: [String: Parameter]) -> PredictionType {
        guard config.contextDim == 1024, config.linearProjection, config.modelChannels == 320, config.inChannels == 4,
            let bias = weights["output_blocks.11.1.transformer_blocks.0.norm1.bias"]?.tensor().scalars, !bias.isEmpty
        else {
            return .epsilon
        }
        let n = Double(bias.count)
        let mean = bias.reduce(0.0) { $0 + Double($1) } / n
        let variance = bias.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return variance.squareRoot() > 0.09 ? .vPrediction : .epsilon
    }
}
