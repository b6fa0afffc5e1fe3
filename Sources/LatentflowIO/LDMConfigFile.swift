import Foundation
import Yams

/// The two settings ComfyUI's deprecated `load_checkpoint` reads from an original LDM
/// inference config (`models/configs/*.yaml`, e.g. `v2-inference-v.yaml`):
/// `model.params.parameterization` and `model.params.cond_stage_config.params.layer_idx`.
public struct LDMConfigFile: Sendable, Equatable {
    /// "v" for v-prediction; nil or anything else leaves the checkpoint's own guess.
    public var parameterization: String?
    /// The CLIP layer to stop at (ComfyUI's `clip.clip_layer(layer_idx)`), nil when unset.
    public var layerIndex: Int?

    public init(parameterization: String? = nil, layerIndex: Int? = nil) {
        (self.parameterization, self.layerIndex) = (parameterization, layerIndex)
    }

    public static func read(_ file: URL) throws -> LDMConfigFile {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ModelPathError.unreadableConfig(file: file.path, reason: error.localizedDescription)
        }
        let document: Any?
        do { document = try Yams.load(yaml: text) } catch {
            throw ModelPathError.unreadableConfig(file: file.path, reason: "invalid YAML: \(error)")
        }
        guard let root = document as? [String: Any], let model = root["model"] as? [String: Any],
            let params = model["params"] as? [String: Any], let clip = params["cond_stage_config"] as? [String: Any]
        else {
            throw ModelPathError.unreadableConfig(
                file: file.path, reason: "expected model.params.cond_stage_config (an LDM inference config)")
        }
        let clipParams = clip["params"] as? [String: Any]
        return LDMConfigFile(
            parameterization: params["parameterization"] as? String, layerIndex: clipParams?["layer_idx"] as? Int)
    }
}
