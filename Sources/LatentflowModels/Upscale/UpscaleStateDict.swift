import LatentflowIO
import LatentflowTensor

/// The state dict of an upscale model file, found as ComfyUI and spandrel find it.
///
/// Matches: ComfyUI `comfy/utils.py` `load_torch_file` (a pickle's `state_dict` entry, else the
/// whole dict), `comfy_extras/nodes_upscale_model.py` `UpscaleModelLoader.load_model` (the
/// `module.` strip of SwinIR files) and spandrel `__helpers/canonicalize.py`
/// `canonicalize_state_dict` (Real-ESRGAN's `params_ema` and the other wrapper keys, a single
/// nested dict, a `module.` or `netG.` prefix on every key).
public enum UpscaleStateDict {
    /// spandrel's wrapper keys, in its order: the first that holds a dict is the state dict.
    static let wrapperKeys = ["model_state_dict", "state_dict", "params_ema", "params-ema", "params", "model", "net"]

    public static func load(path: String) throws -> [String: Tensor] {
        let archive = try openModelFile(path: path)
        var tensors: [String: Tensor]
        if let checkpoint = archive as? TorchCheckpointFile {
            tensors = try Self.tensors(in: checkpoint)
        } else {
            tensors = [:]
            for key in archive.keys { tensors[key] = try archive.tensor(key) }
        }
        if tensors["module.layers.0.residual_group.blocks.0.norm1.weight"] != nil {
            tensors = strippingPrefix("module.", from: tensors, onlyWhereAll: false)
        }
        for prefix in ["module.", "netG."] { tensors = strippingPrefix(prefix, from: tensors, onlyWhereAll: true) }
        guard !tensors.isEmpty else {
            throw ModelLoadError.unrecognized(file: path, reason: "the file holds no tensors under string keys")
        }
        return tensors
    }

    private static func tensors(in checkpoint: TorchCheckpointFile) throws -> [String: Tensor] {
        guard var dict = TorchCheckpointFile.stateDict(in: checkpoint.root) else { return [:] }
        if let wrapped = wrapperKeys.lazy.compactMap({ dict[$0] }).first(where: { $0.dictEntries != nil }) {
            dict = wrapped
        }
        if let entries = dict.dictEntries, entries.count == 1, entries[0].value.dictEntries != nil {
            dict = entries[0].value
        }
        var tensors: [String: Tensor] = [:]
        for entry in dict.dictEntries ?? [] {
            guard case let .string(key) = entry.key, let info = entry.value.tensorValue else { continue }
            tensors[key] = try checkpoint.tensor(info)
        }
        return tensors
    }

    private static func strippingPrefix(_ prefix: String, from tensors: [String: Tensor], onlyWhereAll: Bool)
        -> [String: Tensor]
    {
        if onlyWhereAll && !tensors.keys.allSatisfy({ $0.hasPrefix(prefix) }) { return tensors }
        var result: [String: Tensor] = [:]
        for (key, value) in tensors {
            result[key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key] = value
        }
        return result
    }
}
