import LatentflowGraph
import LatentflowTensor

/// The extra input channels of an inpainting UNet (SD1.5/SD2 inpainting: 9 = 4 latent + 1 mask +
/// 4 masked-image latent): the mask and the masked image's latent, concatenated after the noisy
/// latent at every model call.
///
/// Matches: ComfyUI `comfy/model_base.py` `BaseModel.concat_cond` with `concat_keys = ("mask",
/// "masked_image")` (`set_inpaint`, chosen by `in_channels == 9` in `model_detection.py`): the
/// entry's `concat_mask`/`concat_latent_image` if set, else the sampled latent and its prepared
/// noise mask; no mask at all gives an all-ones mask and `blank_inpaint_image_like`.
struct InpaintConcat {
    /// The latent being sampled as the model sees it (`process_latent_in`), `[B, C, h, w]`.
    let latentImage: Tensor
    /// The noise mask prepared to the latent's shape (`prepare_mask`), if the latent has one.
    let denoiseMask: Tensor?
    let latentScale: Float
    /// An InstructPix2Pix UNet (2·C input channels): the extra channels are the entry's
    /// `concat_latent_image` alone, unscaled (ComfyUI `model_base.py` `IP2P.concat_cond` with
    /// SD1.5's identity `process_ip2p_image_in`), zeros without one.
    var instructPixToPix = false

    /// The mask and masked-image latent for one conditioning entry, `[B, 1 + C, h, w]` (an
    /// InstructPix2Pix UNet: the image latent, `[B, C, h, w]`).
    func channels(for entry: Conditioning.Entry) throws -> Tensor {
        if instructPixToPix { return try instructPixToPixChannels(for: entry) }
        let shape = latentImage.shape, (batch, h, w) = (shape[0], shape[2], shape[3])
        guard var mask = entry.concatMask ?? denoiseMask else {
            return try Tensor.concat([Tensor(shape: [batch, 1, h, w], repeating: 1), blankImage(shape)], axis: 1)
        }
        var image = latentImage
        if let concat = entry.concatLatentImage {
            image = concat.scaled(by: latentScale)
            if Array(image.shape.dropFirst()) != Array(shape.dropFirst()) {
                image = try commonUpscale(image, width: w, height: h, method: "bilinear", crop: "center")
            }
        }
        if mask.rank == shape.count { mask = try mask.slice(axis: 1, start: 0, length: 1) }
        guard mask.rank >= 2, mask.count > 0 else { throw NodeError("an inpainting mask of shape \(mask.shape)") }
        let (mh, mw) = (mask.dim(-2), mask.dim(-1))
        mask = try mask.reshaped([mask.count / (mh * mw), 1, mh, mw])
        if (mh, mw) != (h, w) {
            mask = try commonUpscale(mask, width: w, height: h, method: "bilinear", crop: "center")
        }
        mask = try resizedToBatch(mask.mapScalars { $0.rounded(.toNearestOrEven) }, batch)
        return try Tensor.concat([mask, resizedToBatch(image, batch)], axis: 1)
    }

    /// `IP2P.concat_cond`: the image latent resized (bilinear, centre crop) to the sampled latent
    /// and stretched to its batch.
    func instructPixToPixChannels(for entry: Conditioning.Entry) throws -> Tensor {
        let shape = latentImage.shape
        guard var image = entry.concatLatentImage else { return Tensor(shape: shape) }
        if Array(image.shape.dropFirst()) != Array(shape.dropFirst()) {
            image = try commonUpscale(image, width: shape[3], height: shape[2], method: "bilinear", crop: "center")
        }
        return try resizedToBatch(image, shape[0])
    }

    /// ComfyUI's latent of a mid-grey image, for an inpainting model sampled without a mask.
    func blankImage(_ shape: [Int]) throws -> Tensor {
        let values: [Float] = [0.8223, -0.6876, 0.6364, 0.1380]
        guard shape[1] == values.count else {
            throw NodeError("an inpainting UNet needs a \(values.count)-channel latent, got \(shape)")
        }
        let plane = shape[2] * shape[3]
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = values[(i / plane) % values.count] }
        }
    }
}

/// A batch stretched or thinned to `count` samples by nearest index (`comfy.utils.resize_to_batch_size`).
func resizedToBatch(_ tensor: Tensor, _ count: Int) throws -> Tensor {
    let n = tensor.dim(0)
    if n == count { return tensor }
    if count <= 1 { return try tensor.slice(axis: 0, start: 0, length: min(count, n)) }
    let picks: [Int] = (0..<count).map { i in
        if count < n {
            let scale = Double(n - 1) / Double(count - 1)
            return min(Int((Double(i) * scale).rounded(.toNearestOrEven)), n - 1)
        }
        return min(Int(((Double(i) + 0.5) * (Double(n) / Double(count))).rounded(.down)), n - 1)
    }
    return try Tensor.concat(picks.map { try tensor.slice(axis: 0, start: $0, length: 1) }, axis: 0)
}
