import ArgumentParser
import Foundation
import LatentflowTensor

/// `latentflow bench`: kernel rates for the shapes of a full-size SD1.5 UNet at a 64x64 latent,
/// each as a ratio to the reference sgemm rate R measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure kernel speed on SD1.5 shapes (build with -c release).")

    @Option(help: "Timed runs per case (the median is reported).")
    var repeats = 5

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Also time full-size SD1.5 networks with random weights (minutes; several GiB of memory).")
    var models = false

    @Option(help: "With --models: only the model cases whose name contains this (repeatable, e.g. --only unet).")
    var only: [String] = []

    @Option(help: "Also time the whole 4-step LCM workflow through the executor on this SD1.5 checkpoint (e.g. one made by `make-tiny-model --full-size`).")
    var workflowCheckpoint: String?

    @Option(help: "Image sizes for --workflow-checkpoint.")
    var sizes: [Int] = [256, 512]

    @Flag(help: "Run --workflow-checkpoint in low-memory mode (weights left in the checkpoint file, widened per layer). Run it without --models, whose full-size models would set the peak.")
    var lowMemory = false

    func run() async throws {
        if let threads { Threads.count = max(1, threads) }
        var results = try KernelBenchmark.runAll(repeats: repeats)
        if models {
            let reference = results[0].gflops
            for c in ModelBenchmark.cases(include: Set(only)) {
                let seconds = try KernelBenchmark.median(max(1, repeats / 3), c.run)
                var r = KernelBenchmark(name: c.name, seconds: seconds, gflops: c.gflop / seconds)
                r.ratio = r.gflops / reference
                r.peakBytes = ModelBenchmark.peakResidentBytes()
                results.append(r)
            }
        }
        if let workflowCheckpoint {
            results += try await WorkflowBenchmark.run(checkpoint: URL(fileURLWithPath: workflowCheckpoint).standardizedFileURL,
                                                       sizes: sizes, reference: results[0].gflops, lowMemory: lowMemory)
        }
        if json {
            let rows = results.map { ["name": $0.name, "seconds": $0.seconds, "gflops": $0.gflops, "ratio_to_R": $0.ratio,
                                      "peak_rss_bytes": $0.peakBytes] as [String: Any] }
            let data = try JSONSerialization.data(withJSONObject: ["threads": Threads.count, "results": rows], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("threads: \(Threads.count)")
            print("case".padding(toLength: 44, withPad: " ", startingAt: 0) + "   time (ms)   GFLOP/s   ratio to R   peak RSS")
            for r in results {
                print(r.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                      + String(format: "%12.2f %9.1f %12.2f %8.2f GiB", r.seconds * 1000, r.gflops, r.ratio, Double(r.peakBytes) / 1_073_741_824))
            }
        }
    }
}

struct KernelBenchmark {
    let name: String
    let seconds: Double
    let gflops: Double
    var ratio: Double = 1
    var peakBytes = ModelBenchmark.peakResidentBytes()

    static func runAll(repeats: Int) throws -> [KernelBenchmark] {
        // R: the im2col GEMM of SD's 320-channel 3x3 convolution at 64x64, on OpenBLAS's own threads.
        let (m, n, k) = (320, 4096, 2880)
        let referenceSeconds = ReferenceGEMM.seconds(m: m, n: n, k: k, repeats: repeats)
        let reference = KernelBenchmark(name: "sgemm R (OpenBLAS, \(m)x\(k) · \(k)x\(n))", seconds: referenceSeconds,
                                        gflops: 2.0 * Double(m * n * k) / referenceSeconds / 1e9)
        var results = [reference]
        results.append(try conv(channels: 320, size: 64, repeats: repeats))
        results.append(try conv(channels: 640, size: 32, repeats: repeats))
        results.append(try attention(tokens: 4096, heads: 8, headDim: 40, repeats: repeats))
        return results.map { var r = $0; r.ratio = $0.gflops / reference.gflops; return r }
    }

    static func conv(channels: Int, size: Int, repeats: Int) throws -> KernelBenchmark {
        let x = random([1, channels, size, size]), w = random([channels, channels, 3, 3], scale: 0.02), b = random([channels])
        let seconds = try median(repeats) { _ = try x.conv2d(weight: w, bias: b, padding: 1) }
        let flops = 2.0 * Double(channels * channels * 9 * size * size)
        return KernelBenchmark(name: "conv2d 3x3 \(channels)->\(channels) at \(size)x\(size)", seconds: seconds, gflops: flops / seconds / 1e9)
    }

    static func attention(tokens: Int, heads: Int, headDim: Int, repeats: Int) throws -> KernelBenchmark {
        let q = random([1, tokens, heads * headDim]), k = random([1, tokens, heads * headDim]), v = random([1, tokens, heads * headDim])
        let seconds = try median(repeats) { _ = try q.attention(key: k, value: v, heads: heads) }
        let flops = 4.0 * Double(tokens * tokens * headDim * heads)
        return KernelBenchmark(name: "attention \(tokens) tokens x \(heads) heads x \(headDim)", seconds: seconds, gflops: flops / seconds / 1e9)
    }

    static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    static func random(_ shape: [Int], scale: Float = 1) -> Tensor {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return Tensor(shape: shape) { out in
            for i in 0..<out.count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                out[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * scale
            }
        }
    }
}
