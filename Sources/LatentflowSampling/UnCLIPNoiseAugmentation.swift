import Foundation
import LatentflowTensor

/// The `y` vector an unCLIP UNet (SD2.1-unCLIP) takes in place of a class label: each CLIP image
/// embedding noised to its noise-augmentation level on the squared-cosine schedule, joined with
/// the sinusoidal embedding of that level, times its strength; several are summed and noised
/// once more at `merge`.
///
/// Matches: ComfyUI `comfy/model_base.py` `unclip_adm` and `SD21UNCLIP.encode_adm` over
/// `comfy/ldm/modules/encoders/noise_aug_modules.py` `CLIPEmbeddingNoiseAugmentation` with
/// SD2.1-unCLIP's `noise_aug_config` (`squaredcos_cap_v2`, 1000 steps, no CLIP statistics: mean 0,
/// std 1, so the checkpoint's `noise_augmentor.*` buffers are not read, as ComfyUI does not read
/// them). The noise: every image's draw is `torch.randn` under `manual_seed(seed − 10)` (so all
/// images share it), and the merge draw continues that generator, as ComfyUI's `randn_like` does.
public enum UnCLIPNoiseAugmentation {
    /// One unCLIPConditioning apply: image embeddings `[N, D]`, each row one image.
    public struct Image: Sendable {
        public let embeddings: Tensor
        public let strength: Double
        public let noiseAugmentation: Double

        public init(embeddings: Tensor, strength: Double, noiseAugmentation: Double) {
            (self.embeddings, self.strength, self.noiseAugmentation) = (embeddings, strength, noiseAugmentation)
        }
    }

    /// `max_noise_level`, and the schedule's length.
    static let levels = 1000

    /// `sqrt(ᾱ)` and `sqrt(1 − ᾱ)` of `squaredcos_cap_v2` (`betas_for_alpha_bar`, float64, then
    /// stored as float32 buffers).
    static let schedule: (signal: [Float], noise: [Float]) = {
        func alphaBar(_ t: Double) -> Double { pow(cos((t + 0.008) / 1.008 * Double.pi / 2), 2) }
        var product = 1.0
        var signal: [Float] = [], noise: [Float] = []
        for i in 0..<levels {
            let beta = min(1 - alphaBar(Double(i + 1) / Double(levels)) / alphaBar(Double(i) / Double(levels)), 0.999)
            product *= 1 - beta
            signal.append(Float(product.squareRoot()))
            noise.append(Float((1 - product).squareRoot()))
        }
        return (signal, noise)
    }()

    /// The `y` row `[1, 2·D]` for `images` under sampling `seed`.
    /// - Parameter merge: ComfyUI's `unclip_noise_augment_merge` (0.05 unless a node sets it).
    public static func adm(_ images: [Image], seed: UInt64, merge: Double = 0.05) throws -> Tensor {
        guard let width = images.first?.embeddings.shape.last else {
            throw TensorError.invalidArgument("unCLIP conditioning without image embeddings")
        }
        var generator = TorchCPUGenerator(seed: seed &- 10)
        var rows: [Tensor] = []
        for image in images {
            guard image.embeddings.rank == 2, image.embeddings.dim(1) == width else {
                throw TensorError.invalidArgument(
                    "unCLIP image embeddings must all be [N, \(width)], got \(image.embeddings.shape)")
            }
            for row in 0..<image.embeddings.dim(0) {
                let embedding = try image.embeddings.slice(axis: 0, start: row, length: 1)
                generator = TorchCPUGenerator(seed: seed &- 10)
                let level = Int((Double(levels - 1) * image.noiseAugmentation).rounded(.toNearestOrEven))
                rows.append(
                    try augmented(embedding, level: level, generator: &generator).scaled(by: Float(image.strength)))
            }
        }
        guard rows.count > 1 else { return rows[0] }
        var sum = rows[0]
        for row in rows.dropFirst() { sum = try sum.adding(row) }
        let level = Int((Double(levels - 1) * merge).rounded(.toNearestOrEven))
        return try augmented(sum.slice(axis: 1, start: 0, length: width), level: level, generator: &generator)
    }

    /// `q_sample` at `level` then `[z, timestep_embedding(level)]`, for one `[1, D]` embedding.
    static func augmented(_ x: Tensor, level: Int, generator: inout TorchCPUGenerator) throws -> Tensor {
        let width = x.dim(1)
        let noise = try generator.randn([1, width])
        let (a, b) = (schedule.signal[level], schedule.noise[level])
        let half = width / 2
        let logPeriod = Float(-Foundation.log(10000.0))
        let z = Tensor(shape: [1, width]) { out in
            x.withUnsafeBufferPointer { x in
                noise.withUnsafeBufferPointer { n in for i in 0..<width { out[i] = a * x[i] + b * n[i] } }
            }
        }
        // ComfyUI's `timestep_embedding`: cos then sin halves (a zero column for odd widths).
        let embedding = Tensor(shape: [1, width]) { out in
            if width % 2 == 1 { out[width - 1] = 0 }
            for i in 0..<half {
                let angle = Float(level) * Foundation.exp(logPeriod * Float(i) / Float(half))
                out[i] = Foundation.cos(angle)
                out[half + i] = Foundation.sin(angle)
            }
        }
        return try Tensor.concat([z, embedding], axis: 1)
    }
}
