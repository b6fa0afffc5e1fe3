import ArgumentParser
import Foundation
import Latentflow

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

    @Option(
        help:
            "Also time the whole 4-step LCM workflow through the executor on this SD1.5 checkpoint (e.g. one made by `make-tiny-model --full-size`)."
    )
    var workflowCheckpoint: String?

    @Option(help: "With --models: the input side of the RRDBNet x4 case (its output is 4x).")
    var upscaleSize = 512

    @Option(help: "Image sizes for --workflow-checkpoint.")
    var sizes: [Int] = [256, 512]

    @Option(
        help:
            "Which algorithm 3x3 convolutions use: automatic (by shape), f4x4, f2x2 (Winograd) or off (im2col), to compare them run by run."
    )
    var winograd: WinogradTiles = .automatic

    @Flag(
        help:
            "Run --workflow-checkpoint in low-memory mode (weights left in the checkpoint file, widened per layer). Run it without --models, whose full-size models would set the peak."
    )
    var lowMemory = false

    func run() async throws {
        if let threads { Threads.count = max(1, threads) }
        ConvolutionSettings.winograd = winograd
        let reference = ReferenceRate()
        var results = try KernelBenchmark.runAll(repeats: repeats, reference: reference)
        if models {
            ModelBenchmark.upscaleSize = upscaleSize
            for c in ModelBenchmark.cases(include: Set(only)) {
                var r = try reference.measure(c.name, gflop: c.gflop, repeats: max(1, repeats / 3), c.run)
                r.peakBytes = ModelBenchmark.peakResidentBytes()
                results.append(r)
            }
        }
        if let workflowCheckpoint {
            results += try await WorkflowBenchmark.run(
                checkpoint: URL(fileURLWithPath: workflowCheckpoint).standardizedFileURL,
                sizes: sizes, reference: reference, lowMemory: lowMemory)
        }
        results.insert(reference.summary, at: 0)
        if json {
            let rows = results.map {
                [
                    "name": $0.name, "seconds": $0.seconds, "gflops": $0.gflops, "ratio_to_R": $0.ratio,
                    "peak_rss_bytes": $0.peakBytes,
                ] as [String: Any]
            }
            let data = try JSONSerialization.data(
                withJSONObject: ["threads": Threads.count, "results": rows], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("threads: \(Threads.count)")
            print(
                "case".padding(toLength: 44, withPad: " ", startingAt: 0)
                    + "   time (ms)   GFLOP/s   ratio to R   peak RSS")
            for r in results {
                print(
                    r.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                        + String(
                            format: "%12.2f %9.1f %12.2f %8.2f GiB", r.seconds * 1000, r.gflops, r.ratio,
                            Double(r.peakBytes) / 1_073_741_824))
            }
        }
    }
}

extension WinogradTiles: ExpressibleByArgument {}
