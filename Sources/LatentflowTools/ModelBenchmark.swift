import Foundation
import Latentflow
import LatentflowModels

/// Full-size SD1.5 networks with seeded random weights (no download), timed as the issue's
/// workloads: FLOP counts are PyTorch's FLOP counter's figures for the same networks.
enum ModelBenchmark {
    struct Case {
        let name: String
        let gflop: Double
        let run: () throws -> Void
    }

    /// The input side of the RRDBNet case (`--upscale-size`).
    nonisolated(unsafe) static var upscaleSize = 512
    /// The image side of the TAESD cases (`--taesd-size`).
    nonisolated(unsafe) static var taesdSize = 512
    /// What the UNet cases compute in (`bench --bf16-unet`).
    nonisolated(unsafe) static var unetPrecision = ProductPrecision.float32

    /// The cases whose name contains one of `include` (all of them when it is empty). Each network
    /// is built (seeded random weights, its own seed) only when a chosen case first runs, so a
    /// case run alone (`--only TAESD`) builds only its own.
    static func cases(include: Set<String>) -> [Case] {
        func wanted(_ name: String) -> Bool {
            include.isEmpty || include.contains { name.lowercased().contains($0.lowercased()) }
        }
        let unet = Lazy { UNet(RandomWeights(seed: 42).store(source: "random SD1.5 UNet").root, config: .sd15) }
        let vae = Lazy { AutoencoderKL(RandomWeights(seed: 43).store(source: "random SD1.5 VAE").root, config: .sd15) }
        let clip = Lazy {
            CLIPTextModel(RandomWeights(seed: 44).store(source: "random CLIP ViT-L/14").root, config: .vitL14)
        }
        let context = KernelBenchmark.random([1, 77, 768])
        // Every timed run is also the full-size smoke check: the output must have the expected
        // shape and hold only finite values, or the benchmark stops with an error.
        var all: [Case] = [
            Case(name: "CLIP text encoder (77 tokens)", gflop: 13) {
                try check(clip.value.encode([Array(repeating: 320, count: 77)]), [1, 77, 768], "CLIP text encoder")
            }
        ]
        for (size, gflop) in [(32, 180.0), (64, 803.0)] {
            for batch in [1, 2] {
                let name =
                    "UNet forward \(size)x\(size) latent" + (batch == 1 ? "" : ", batch 2")
                    + (unetPrecision == .bfloat16 ? ", bf16" : "")
                let batchContext = batch == 1 ? context : try! Tensor.concat([context, context], axis: 0)
                all.append(
                    Case(name: name, gflop: gflop * Double(batch)) {
                        try ProductPrecision.$current.withValue(unetPrecision) {
                            try check(
                                unet.value(
                                    KernelBenchmark.random([batch, 4, size, size]),
                                    timesteps: Array(repeating: 999, count: batch),
                                    context: batchContext), [batch, 4, size, size], name)
                        }
                    })
            }
        }
        all += [
            Case(name: "VAE decode 256x256", gflop: 622) {
                try check(
                    vae.value.decode(KernelBenchmark.random([1, 4, 32, 32])), [1, 3, 256, 256], "VAE decode 256")
            },
            Case(name: "VAE decode 512x512", gflop: 2515) {
                try check(
                    vae.value.decode(KernelBenchmark.random([1, 4, 64, 64])), [1, 3, 512, 512], "VAE decode 512")
            },
            Case(name: "VAE encode 512x512", gflop: 1117) {
                try check(
                    vae.value.encode(KernelBenchmark.random([1, 3, 512, 512])), [1, 4, 64, 64], "VAE encode 512")
            },
        ]
        // madebyollin's TAESD at its released width (64), as VAELoader's `taesd` runs it. GFLOP: the
        // multiply-adds of its convolutions, read off the layers (TAESDTests checks the count
        // against PyTorch's FLOP counter over ComfyUI's module: 141.35 / 122.33 GFLOP at 512 px).
        // Small: built whether chosen or not.
        let taesd = TinyModelFactory.randomTAESD(width: 64)
        let side = taesdSize, latentSide = taesdSize / 8
        all += [
            Case(
                name: "TAESD decode \(side)x\(side)",
                gflop: Double(2 * taesd.decoderMultiplyAdds(latentHeight: latentSide, latentWidth: latentSide)) / 1e9
            ) {
                try check(
                    taesd.decode(KernelBenchmark.random([1, 4, latentSide, latentSide])), [1, 3, side, side],
                    "TAESD decode")
            },
            Case(
                name: "TAESD encode \(side)x\(side)",
                gflop: Double(2 * (taesd.encoderMultiplyAdds(imageHeight: side, imageWidth: side) ?? 0)) / 1e9
            ) {
                try check(
                    taesd.encode(KernelBenchmark.random([1, 3, side, side])), [1, 4, latentSide, latentSide],
                    "TAESD encode")
            },
        ]
        // ESRGAN / Real-ESRGAN x4plus's network (nf 64, nb 23) on one tile, the whole image
        // (ComfyUI runs a 512 px image as one tile): scripts/compare_upscale_with_pytorch.py times
        // spandrel's RRDBNet on the same shape.
        let size = upscaleSize
        let esrganName = "RRDBNet x4 (nf 64, nb 23) \(size)→\(4 * size)"
        if wanted(esrganName) {
            let esrgan = RRDBNet(
                RandomWeights(seed: 45).store(source: "random RRDBNet x4").root, configuration: .init())
            all.append(
                Case(name: esrganName, gflop: Double(2 * esrgan.multiplyAddsPerInputPixel * size * size) / 1e9) {
                    try check(
                        esrgan(KernelBenchmark.random([1, 3, size, size]).scaled(by: 0.5, adding: 0.5)),
                        [1, 3, 4 * size, 4 * size], "RRDBNet x4")
                })
        }
        return all.filter { wanted($0.name) }
    }

    /// A network built on first use.
    final class Lazy<Value>: @unchecked Sendable {
        private let make: () -> Value
        private(set) lazy var value: Value = make()
        init(_ make: @escaping () -> Value) { self.make = make }
    }

    struct SmokeCheckFailure: Error, CustomStringConvertible {
        let description: String
    }

    static func check(_ output: Tensor, _ shape: [Int], _ what: String) throws {
        guard output.shape == shape else {
            throw SmokeCheckFailure(description: "\(what): output shape \(output.shape), expected \(shape)")
        }
        guard output.scalars.allSatisfy(\.isFinite) else {
            throw SmokeCheckFailure(description: "\(what): non-finite values in the output")
        }
    }

    /// Peak resident memory of this process, from getrusage (KiB on Linux).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
