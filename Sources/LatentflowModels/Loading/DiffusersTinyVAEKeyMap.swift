import LatentflowTensor

/// diffusers `AutoencoderTiny` names (`encoder.layers.*`, `decoder.layers.*`: SDXS's `vae/`, the
/// diffusers files of madebyollin/taesd) → TAESD's two state dicts, as `taesd_encoder.*` and
/// `taesd_decoder.*` hold them.
///
/// Matches: diffusers `models/autoencoders/vae.py` `EncoderTiny` / `DecoderTiny` against
/// madebyollin's `taesd.py` `Encoder` / `Decoder` (ComfyUI `comfy/taesd/taesd.py`). Both are
/// `nn.Sequential`s of the same layers; the encoder's have the same indices, the decoder's one
/// fewer, because TAESD's decoder starts with its `Clamp` (`tanh(x / 3) * 3`) where
/// `DecoderTiny.forward` applies it before its layers. Both encode images in 0…1 to the same
/// model-space latents, so `vae_scale` stays SD1.x's.
enum DiffusersTinyVAEKeyMap {
    static let encoderPrefix = "encoder.layers.", decoderPrefix = "decoder.layers."
    /// TAESD's decoder index of diffusers' `decoder.layers.0`.
    static let decoderIndexOffset = 1

    static func isAutoencoderTiny<Value>(_ tensors: [String: Value]) -> Bool {
        tensors[encoderPrefix + "0.weight"] != nil && tensors[decoderPrefix + "0.weight"] != nil
    }

    /// The encoder's and decoder's tensors under TAESD's keys; a key of neither part, or without
    /// a layer index, is refused by name.
    static func toTAESD(_ tensors: [String: Tensor], file: String) throws -> (
        encoder: [String: Tensor], decoder: [String: Tensor]
    ) {
        var encoder: [String: Tensor] = [:], decoder: [String: Tensor] = [:]
        var unknown: [String] = []
        for (key, tensor) in tensors {
            if let rest = reindexed(key, prefix: encoderPrefix, offset: 0) {
                encoder[rest] = tensor
            } else if let rest = reindexed(key, prefix: decoderPrefix, offset: decoderIndexOffset) {
                decoder[rest] = tensor
            } else {
                unknown.append(key)
            }
        }
        guard unknown.isEmpty else {
            throw ModelLoadError.keys(file: file, missing: [], unexpected: unknown.sorted(), mismatched: [])
        }
        return (encoder, decoder)
    }

    /// A TAESD key of the `encoder` or `decoder` part (or a message starting with one) as
    /// diffusers names it.
    static func diffusersName(_ taesdKey: String, part: String) -> String {
        let (prefix, offset) = part == "encoder" ? (encoderPrefix, 0) : (decoderPrefix, -decoderIndexOffset)
        return reindexed(prefix + taesdKey, prefix: prefix, offset: offset).map { prefix + $0 } ?? taesdKey
    }

    /// `<prefix><index>.<rest>` as `<index + offset>.<rest>`, nil for any other key.
    static func reindexed(_ key: String, prefix: String, offset: Int) -> String? {
        guard key.hasPrefix(prefix) else { return nil }
        let tail = key.dropFirst(prefix.count)
        guard let dot = tail.firstIndex(of: "."), let index = Int(tail[..<dot]) else { return nil }
        return "\(index + offset)" + tail[dot...]
    }
}
