import LatentflowTensor

/// diffusers `AutoencoderKL` names → LDM names, one rule per module family.
public enum DiffusersVAEKeyMap {
    static let renames = [
        ("conv_norm_out", "norm_out"), ("mid_block.resnets.0", "mid.block_1"), ("mid_block.resnets.1", "mid.block_2"),
        ("mid_block.attentions.0.group_norm", "mid.attn_1.norm"), ("mid_block.attentions.0.to_q", "mid.attn_1.q"),
        ("mid_block.attentions.0.to_k", "mid.attn_1.k"), ("mid_block.attentions.0.to_v", "mid.attn_1.v"),
        ("mid_block.attentions.0.to_out.0", "mid.attn_1.proj_out"),
        // Older diffusers files name the attention projections query/key/value/proj_attn.
        ("mid_block.attentions.0.query", "mid.attn_1.q"), ("mid_block.attentions.0.key", "mid.attn_1.k"),
        ("mid_block.attentions.0.value", "mid.attn_1.v"), ("mid_block.attentions.0.proj_attn", "mid.attn_1.proj_out"),
        ("conv_shortcut", "nin_shortcut"),
    ]

    public static func toLDM(_ tensors: [String: Tensor], file: String) throws -> [String: Tensor] {
        let levels = Set(
            tensors.keys.compactMap { key -> Int? in
                let parts = key.split(separator: ".")
                return parts.count > 2 && parts[1] == "up_blocks" ? Int(parts[2]) : nil
            }
        ).count
        var out: [String: Tensor] = [:]
        for (key, tensor) in tensors {
            var k = key
            for (old, new) in renames { k = k.replacingOccurrences(of: old, with: new) }
            var parts = k.split(separator: ".").map(String.init)
            if parts.count > 3 && parts[0] == "encoder" && parts[1] == "down_blocks" {
                parts =
                    ["encoder", "down", parts[2]]
                    + (parts[3] == "resnets" ? ["block"] + parts[4...] : ["downsample", "conv"] + parts[6...])
            } else if parts.count > 3 && parts[0] == "decoder" && parts[1] == "up_blocks", let index = Int(parts[2]) {
                parts =
                    ["decoder", "up", String(levels - 1 - index)]
                    + (parts[3] == "resnets" ? ["block"] + parts[4...] : ["upsample", "conv"] + parts[6...])
            }
            out[parts.joined(separator: ".")] = tensor
        }
        return out
    }
}
