import Foundation
import LatentflowIO
import LatentflowTensor

/// A loaded ControlNet or T2I-Adapter, ComfyUI's CONTROL_NET.
public enum ControlModel: Sendable {
    case controlNet(ControlNet)
    case t2iAdapter(T2IAdapter)
}

/// What `ControlModelFile.load` returns: the model and what a cache needs to know about it.
public struct LoadedControlModel: Sendable {
    public let model: ControlModel
    public let byteCount: Int
    /// ComfyUI turns this on for `*_shuffle` files: every residual becomes its spatial mean.
    public var globalAveragePooling: Bool
}

/// Reads ControlNets and T2I-Adapters from safetensors or PyTorch files, told apart by their keys
/// as ComfyUI does: the LDM layout with or without `control_model.` (the `control_v11*` family),
/// diffusers `ControlNetModel` (`controlnet_cond_embedding.*`), and T2I-Adapters (full or light,
/// TencentARC or diffusers names). Float16 and float32 files are widened to float32.
///
/// Matches: ComfyUI `comfy/controlnet.py` `load_controlnet`, `load_t2i_adapter`.
public enum ControlModelFile {
    static let ldmPrefix = "control_model."

    /// - Parameter differenceBase: for "diff" ControlNets (a `difference` key), the UNet weights
    ///   (LDM keys) the file's weights are differences from (ComfyUI's DiffControlNetLoader).
    public static func load(path: String, differenceBase: [String: Parameter]? = nil) throws -> LoadedControlModel {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        for (key, entry) in try ArchivedTensor.entries(of: file) {
            tensors[key] = try entry.tensor()
            entry.releasePages()
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let pooling = name.hasSuffix("_shuffle") || name.hasSuffix("_shuffle_fp16")
        if tensors["lora_controlnet"] != nil {
            throw ModelLoadError.unrecognized(
                file: path, reason: "Control-LoRA files (SDXL) are not supported by Latentflow")
        }
        if tensors["controlnet_cond_embedding.conv_in.weight"] != nil {
            tensors = try DiffusersControlNetKeyMap.ldmTensors(tensors, file: path)
        }
        let prefix: String
        if tensors[ldmPrefix + "zero_convs.0.0.weight"] != nil {
            prefix = ldmPrefix
        } else if tensors["zero_convs.0.0.weight"] != nil {
            prefix = ""
        } else {
            let adapter = try loadT2IAdapter(tensors, file: path)
            return LoadedControlModel(
                model: .t2iAdapter(adapter.model), byteCount: adapter.bytes, globalAveragePooling: pooling)
        }
        var weights: [String: Tensor] = [:]
        for (key, tensor) in tensors where key.hasPrefix(prefix) {
            weights[String(key.dropFirst(prefix.count))] = tensor
        }
        if tensors["difference"] != nil, let base = differenceBase {
            for (key, tensor) in weights {
                guard let baseWeight = base[key]?.tensor(), baseWeight.shape == tensor.shape else { continue }
                weights[key] = try tensor.adding(baseWeight)
            }
        }
        let store = WeightStore(weights, source: path + (prefix.isEmpty ? "" : " (\(prefix)*)"))
        let scope = store.root
        guard let hint = try scope.checkedShape("input_hint_block.0.weight", rank: 4) else {
            throw ModelLoadError.unrecognized(
                file: path, reason: "a ControlNet without a hint block (missing \(prefix)input_hint_block.0.weight)")
        }
        let config = try UNetConfiguration.detect(scope)
        let widths = try ControlNetHintBlock.widths(scope["input_hint_block"])
        try scope.require(
            widths.count >= 2 && widths.last == config.modelChannels, "input_hint_block.0.weight",
            expected: "a hint block of 3x3 convolutions ending at the UNet's \(config.modelChannels) channels")
        let controlNet = ControlNet(scope, config: config, hintChannels: hint[1], hintWidths: widths)
        try store.verify(ignoring: { $0 == "difference" })
        return LoadedControlModel(
            model: .controlNet(controlNet), byteCount: weights.values.reduce(0) { $0 + $1.count * 4 },
            globalAveragePooling: pooling)
    }

    /// TencentARC's and diffusers' T2I-Adapter layouts (`load_t2i_adapter`), SD1.x only.
    static func loadT2IAdapter(_ source: [String: Tensor], file: String) throws -> (model: T2IAdapter, bytes: Int) {
        var tensors = source
        if tensors["adapter.body.0.resnets.0.block1.weight"] != nil {
            tensors = DiffusersControlNetKeyMap.adapterTensors(tensors)
        } else if tensors["conv_in.weight"] == nil, tensors["body.0.in_conv.weight"] == nil,
            tensors.keys.allSatisfy({ $0.hasPrefix("adapter.") })
        {
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { (String($0.key.dropFirst(8)), $0.value) })
        }
        let store = WeightStore(tensors, source: file)
        let scope = store.root
        let adapter: T2IAdapter
        if let inConv = try scope.checkedShape("body.0.in_conv.weight", rank: 4) {
            var channels: [Int] = []
            while let out = try scope.checkedShape("body.\(channels.count).out_conv.weight", rank: 4) {
                channels.append(out[0])
            }
            var blocks = 0
            while scope.has("body.0.body.\(blocks).block1.weight") { blocks += 1 }
            adapter = T2IAdapter(light: scope, inChannels: inConv[1], channels: channels, blocks: blocks)
        } else if let convIn = try scope.checkedShape("conv_in.weight", rank: 4),
            let block2 = try scope.checkedShape("body.0.block2.weight", rank: 4)
        {
            if convIn[1] == 256 || convIn[1] == 768 {
                throw ModelLoadError.unrecognized(
                    file: file, reason: "SDXL T2I-Adapters are not supported by Latentflow (SD1.x only)")
            }
            let c = convIn[0]
            adapter = T2IAdapter(
                full: scope, inChannels: convIn[1], channels: [c, c * 2, c * 4, c * 4], blocks: 2, kernel: block2[2],
                convDownsample: tensors.keys.contains { $0.hasSuffix("down_opt.op.weight") })
        } else {
            throw ModelLoadError.unrecognized(
                file: file,
                reason: "neither a ControlNet nor a T2I-Adapter (found e.g. \(source.keys.sorted().prefix(3)))")
        }
        try store.verify()
        return (adapter, tensors.values.reduce(0) { $0 + $1.count * 4 })
    }
}
