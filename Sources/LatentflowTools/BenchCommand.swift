import ArgumentParser
import Foundation
import Latentflow

/// `latentflow bench`: kernel rates for the shapes of a full-size SD1.5 UNet at a 64x64 latent,
/// full-size networks and whole workflows, each as a ratio to the reference sgemm rate R measured
/// in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel, network and workflow speed as ratios to the sgemm rate (build with -c release).")

    @Option(help: "Timed runs per case (the median is reported).")
    var repeats = 5

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(
        help:
            "Also time full-size SD1.5 networks and TAESD with random weights (minutes; several GiB of memory)."
    )
    var models = false

    @Option(
        help:
            "Only the model and workflow cases whose name contains this (repeatable, e.g. --only unet, --only TAESD, --only SD-Turbo)."
    )
    var only: [String] = []

    @Flag(help: "Leave out the kernel cases (to run model or workflow cases alone).")
    var skipKernels = false

    @Option(
        help:
            "Also time the whole 4-step LCM workflow through the executor, with the full VAE and with TAESD decode, on this SD1.5 checkpoint (e.g. one made by `make-tiny-model --full-size`)."
    )
    var workflowCheckpoint: String?

    @Option(help: "With --models: the input side of the RRDBNet x4 case (its output is 4x).")
    var upscaleSize = 512

    @Option(help: "Image sizes for --workflow-checkpoint, --turbo-checkpoint and --batch-cases.")
    var sizes: [Int] = [256, 512]

    @Option(help: "With --models: the image side of the TAESD decode and encode cases.")
    var taesdSize = 512

    @Option(
        help:
            "Also time SD-Turbo's 1-step image through the executor (SDTurboScheduler + SamplerCustom euler_ancestral, cfg 1, TAESD decode) on this SD2.1-base checkpoint (e.g. one made by `make-tiny-model --full-size --family sd21-base`)."
    )
    var turboCheckpoint: String?

    @Option(
        help:
            "Folder holding madebyollin's taesd_encoder.* and taesd_decoder.* for the workflows' TAESD decode (default: random 64-wide stand-ins written for the run)."
    )
    var taesd: String?

    @Flag(
        help:
            "With --workflow-checkpoint: also time batch_size 4 in one latent against batch 1 (per image), and --batch-workflows workflows of distinct seeds through BatchRunner on the same engine (as `latentflow batch` renders them) against as many single images."
    )
    var batchCases = false

    @Option(help: "With --batch-cases: how many workflows go through BatchRunner.")
    var batchWorkflows = 20

    @Option(
        help:
            "Which algorithm 3x3 convolutions use: automatic (by shape), f4x4, f2x2 (Winograd) or off (im2col), to compare them run by run."
    )
    var winograd: WinogradTiles = .automatic

    @Option(
        help:
            "Which lane width attention's kernels use: automatic (AVX-512 where the CPU has it), avx2 or avx512, to compare them run by run."
    )
    var attentionKernels: AttentionKernelWidth = .automatic

    @Option(
        help:
            "The most the 3x3 convolutions keep of their Winograd-transformed weights between calls, in MiB (default 0, as `latentflow`: transformed every call)."
    )
    var winogradCacheMb: Int?

    @Flag(
        help:
            "Run --workflow-checkpoint in low-memory mode (weights left in the checkpoint file, widened per layer). Run it without --models, whose full-size models would set the peak."
    )
    var lowMemory = false

    @Flag(
        name: .customLong("bf16-unet"),
        help:
            "Run the UNet (the --models UNet cases and the workflows' UNets) with bfloat16 products, as `latentflow --bf16-unet` (with its 1 GiB Winograd budget unless --winograd-cache-mb is given); the case names say so."
    )
    var bf16UNet = false

    func validate() throws {
        if batchCases, workflowCheckpoint == nil {
            throw ValidationError("--batch-cases runs the LCM workflow: give its checkpoint with --workflow-checkpoint")
        }
        for (option, path) in [("--workflow-checkpoint", workflowCheckpoint), ("--turbo-checkpoint", turboCheckpoint)] {
            if let path, !FileManager.default.fileExists(atPath: path) {
                throw ValidationError("\(option): no file at \(path)")
            }
        }
        if let workflowCheckpoint, let turboCheckpoint,
            (workflowCheckpoint as NSString).lastPathComponent == (turboCheckpoint as NSString).lastPathComponent
        {
            throw ValidationError(
                "--workflow-checkpoint and --turbo-checkpoint need different file names (both are linked into one checkpoints folder)"
            )
        }
        var isFolder: ObjCBool = false
        if let taesd, !FileManager.default.fileExists(atPath: taesd, isDirectory: &isFolder) || !isFolder.boolValue {
            throw ValidationError("--taesd: no folder at \(taesd)")
        }
    }

    func run() async throws {
        if let threads { Threads.count = max(1, threads) }
        ConvolutionSettings.winograd = winograd
        AttentionSettings.width = attentionKernels
        if let winogradCacheMb {
            WinogradWeightCache.budgetBytes = max(0, winogradCacheMb) << 20
        } else if bf16UNet {
            // As `latentflow --bf16-unet`.
            WinogradWeightCache.budgetBytes = EngineConfiguration.bfloat16WinogradCacheBytes
        }
        let reference = ReferenceRate()
        var results = skipKernels ? [] : try KernelBenchmark.runAll(repeats: repeats, reference: reference)
        if models {
            ModelBenchmark.upscaleSize = upscaleSize
            ModelBenchmark.taesdSize = taesdSize
            ModelBenchmark.unetPrecision = bf16UNet ? .bfloat16 : .float32
            for c in ModelBenchmark.cases(include: Set(only)) {
                var r = try reference.measure(c.name, gflop: c.gflop, repeats: max(1, repeats / 3), c.run)
                r.peakBytes = ModelBenchmark.peakResidentBytes()
                results.append(r)
            }
        }
        if workflowCheckpoint != nil || turboCheckpoint != nil {
            func file(_ path: String?) -> URL? { path.map { URL(fileURLWithPath: $0).standardizedFileURL } }
            var settings = WorkflowBenchmark.Settings(
                checkpoint: file(workflowCheckpoint), turboCheckpoint: file(turboCheckpoint), taesd: file(taesd))
            (settings.sizes, settings.lowMemory, settings.include) = (sizes, lowMemory, Set(only))
            (settings.batchCases, settings.batchWorkflows) = (batchCases, max(1, batchWorkflows))
            settings.unetPrecision = bf16UNet ? .bfloat16 : .float32
            results += try await WorkflowBenchmark.run(settings, reference: reference)
        }
        results.insert(reference.summary, at: 0)
        if json {
            let rows = results.map {
                [
                    "name": $0.name, "seconds": $0.seconds, "gflops": $0.gflops, "ratio_to_R": $0.ratio,
                    "peak_rss_bytes": $0.peakBytes, "note": $0.note ?? "",
                ] as [String: Any]
            }
            let data = try JSONSerialization.data(
                withJSONObject: [
                    "threads": Threads.count, "results": rows, "openblas_core": BLASCore.name,
                    "openblas_core_replaced": BLASCore.replacement != nil,
                    "winograd_cache_peak_bytes": WinogradWeightCache.peakBytes,
                ], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("threads: \(Threads.count)")
            print(
                "OpenBLAS core: \(BLASCore.name)"
                    + (BLASCore.replacement != nil ? " (Latentflow's choice: OpenBLAS took this CPU for Prescott)" : "")
            )
            print(
                String(
                    format: "Winograd transforms kept: at most %.0f MiB at once, of a %.0f MiB budget",
                    Double(WinogradWeightCache.peakBytes) / 1_048_576,
                    Double(WinogradWeightCache.budgetBytes) / 1_048_576))
            print(
                "case".padding(toLength: 66, withPad: " ", startingAt: 0)
                    + "   time (ms)   GFLOP/s   ratio to R   peak RSS")
            for r in results {
                print(
                    r.name.padding(toLength: 66, withPad: " ", startingAt: 0)
                        + String(
                            format: "%12.2f %9.1f %12.2f %8.2f GiB", r.seconds * 1000, r.gflops, r.ratio,
                            Double(r.peakBytes) / 1_073_741_824) + (r.note.map { "   " + $0 } ?? ""))
            }
        }
    }
}

extension WinogradTiles: ExpressibleByArgument {}
extension AttentionKernelWidth: ExpressibleByArgument {}
