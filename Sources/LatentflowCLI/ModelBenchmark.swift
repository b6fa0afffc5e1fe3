import Foundation
import LatentflowModels
import LatentflowTensor

/// Full-size SD1.5 networks with seeded random weights (no download), timed as the issue's
/// workloads: FLOP counts are PyTorch's FLOP counter's figures for the same networks.
enum ModelBenchmark {
    struct Case {
        let name: String
        let gflop: Double
        let run: () throws -> Void
    }

    static func cases(include: Set<String>) -> [Case] {
        let random = RandomWeights(seed: 42)
        let unet = UNet(random.store(source: "random SD1.5 UNet").root, config: .sd15)
        let vae = AutoencoderKL(random.store(source: "random SD1.5 VAE").root, config: .sd15)
        let clip = CLIPTextModel(random.store(source: "random CLIP ViT-L/14").root, config: .vitL14)
        let context = KernelBenchmark.random([1, 77, 768])
        var all: [Case] = [
            Case(name: "CLIP text encoder (77 tokens)", gflop: 13) { _ = try clip.encode([Array(repeating: 320, count: 77)]) },
            Case(name: "UNet forward 32x32 latent", gflop: 180) {
                _ = try unet(KernelBenchmark.random([1, 4, 32, 32]), timesteps: [999], context: context)
            },
            Case(name: "UNet forward 64x64 latent", gflop: 803) {
                _ = try unet(KernelBenchmark.random([1, 4, 64, 64]), timesteps: [999], context: context)
            },
            Case(name: "VAE decode 256x256", gflop: 622) { _ = try vae.decode(KernelBenchmark.random([1, 4, 32, 32])) },
            Case(name: "VAE decode 512x512", gflop: 2515) { _ = try vae.decode(KernelBenchmark.random([1, 4, 64, 64])) },
            Case(name: "VAE encode 512x512", gflop: 1117) { _ = try vae.encode(KernelBenchmark.random([1, 3, 512, 512])) },
        ]
        if !include.isEmpty { all = all.filter { c in include.contains { c.name.lowercased().contains($0.lowercased()) } } }
        return all
    }

    /// Peak resident memory of this process, from getrusage (KiB on Linux).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
