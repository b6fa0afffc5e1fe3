import Foundation
import Latentflow
import LatentflowModels

/// Whole workflows through the real executor: the 4-step LCM image (full VAE and TAESD decode),
/// SD-Turbo's 1-step image, and the batch cases. One engine serves them all, so only the first
/// run of each checkpoint loads it and encodes the prompts; each single-image case runs two
/// seeds, the second being the one to read (sampling and decoding only).
enum WorkflowBenchmark {
    struct Settings {
        /// The SD1.5 checkpoint of the LCM cases (nil: none of them).
        var checkpoint: URL?
        /// The SD2.1-base checkpoint of the SD-Turbo case (nil: not run).
        var turboCheckpoint: URL?
        /// A folder holding madebyollin's taesd_encoder.* and taesd_decoder.* (nil: random
        /// 64-wide stand-ins written for the run).
        var taesd: URL?
        var sizes: [Int] = [256, 512]
        var lowMemory = false
        /// What the workflows' UNets compute in (`--bf16-unet`).
        var unetPrecision = ProductPrecision.float32
        /// Also the batch cases (needs `checkpoint`), with this many workflows for BatchRunner.
        var batchCases = false
        var batchWorkflows = 20
        /// Only the cases whose name contains one of these (all when empty).
        var include: Set<String> = []
    }

    /// Dense GFLOP per image, at cfg 1 (both prompts encoded once each). LCM with the full VAE:
    /// PyTorch FLOP-counter totals (UNet x4 + VAE decode + CLIP ViT-L x2). With TAESD: the same
    /// with TAESD's decoder instead (35.34 / 141.35 GFLOP at 256 / 512 px). SD-Turbo: its UNet
    /// once (181.1 / 804.3) + TAESD decode + OpenCLIP ViT-H's 23 layers x2 (45.13 each); all from
    /// scripts/count_bench_flops.py, PyTorch's FLOP counter over ComfyUI's TAESD and diffusers'
    /// SD-Turbo UNet.
    static let lcmGFLOP: [Int: Double] = [256: 1360, 512: 5740]
    static let lcmTAESDGFLOP: [Int: Double] = [256: 781.3, 512: 3379.4]
    static let turboGFLOP: [Int: Double] = [256: 306.7, 512: 1035.9]

    /// One single-image case: its name, its dense GFLOP per image and its workflow for a seed.
    struct Case {
        let name: String
        let gflop: Double
        let workflow: (Int) -> JSONValue
    }

    static func run(_ settings: Settings, reference: ReferenceRate) async throws -> [KernelBenchmark] {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "latentflow-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let engine = try makeEngine(base: base, settings: settings)
        let suffix =
            (settings.lowMemory ? ", low memory" : "") + (settings.unetPrecision == .bfloat16 ? ", bf16 UNet" : "")
        func wanted(_ name: String) -> Bool {
            settings.include.isEmpty || settings.include.contains { name.lowercased().contains($0.lowercased()) }
        }
        var cases: [Case] = []
        if let checkpoint = settings.checkpoint?.lastPathComponent {
            for (decoder, table, label) in [
                (BenchWorkflows.Decoder.vae, lcmGFLOP, ""), (.taesd, lcmTAESDGFLOP, ", TAESD decode"),
            ] {
                for size in settings.sizes {
                    cases.append(
                        Case(name: "LCM 4 steps \(size)px\(label)", gflop: table[size] ?? 0) {
                            BenchWorkflows.lcm(size: size, seed: $0, checkpoint: checkpoint, decoder: decoder)
                        })
                }
            }
        }
        if let turbo = settings.turboCheckpoint?.lastPathComponent {
            for size in settings.sizes {
                cases.append(
                    Case(name: "SD-Turbo 1 step \(size)px, TAESD decode", gflop: turboGFLOP[size] ?? 0) {
                        BenchWorkflows.sdTurbo(size: size, seed: $0, checkpoint: turbo)
                    })
            }
        }
        var results: [KernelBenchmark] = []
        for c in cases where wanted(c.name) {
            for (label, seed) in [("seed 1", 1), ("seed 2, same process", 2)] {
                results.append(
                    try await reference.measureOnce("\(c.name), \(label)\(suffix)", gflop: c.gflop) {
                        try await render(c.workflow(seed), engine: engine)
                    })
            }
        }
        if settings.batchCases, let checkpoint = settings.checkpoint?.lastPathComponent {
            for size in settings.sizes where wanted("LCM 4 steps \(size)px, batch") {
                results += try await BatchBenchmark(
                    engine: engine, base: base, checkpoint: checkpoint, size: size, gflop: lcmGFLOP[size] ?? 0,
                    workflows: settings.batchWorkflows, suffix: suffix
                ).run(reference: reference)
            }
        }
        return results
    }

    /// An engine over a scratch base folder whose models/checkpoints and models/vae_approx hold
    /// links to the given files (links, not the files' folders as model paths: a folder would be
    /// listed recursively, however large), or random TAESD stand-ins when no TAESD is given.
    static func makeEngine(base: URL, settings: Settings) throws -> Engine {
        let manager = FileManager.default
        let checkpoints = base.appendingPathComponent("models/checkpoints")
        let approx = base.appendingPathComponent("models/vae_approx")
        try manager.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        for file in [settings.checkpoint, settings.turboCheckpoint].compactMap({ $0 }) {
            try manager.createSymbolicLink(
                at: checkpoints.appendingPathComponent(file.lastPathComponent), withDestinationURL: file)
        }
        if let taesd = settings.taesd {
            try manager.createDirectory(at: approx, withIntermediateDirectories: true)
            for name in try manager.contentsOfDirectory(atPath: taesd.path) where name.hasPrefix("taesd_") {
                try manager.createSymbolicLink(
                    at: approx.appendingPathComponent(name), withDestinationURL: taesd.appendingPathComponent(name))
            }
        } else {
            try TinyModelFactory.writeTAESD(to: approx)
        }
        return try Engine(
            paths: ModelPaths(baseDirectory: base, outputDirectory: base.appendingPathComponent("output")),
            settings: BuiltinNodeSettings(lowMemory: settings.lowMemory, unetPrecision: settings.unetPrecision))
    }

    /// Runs a workflow; it must save `images` images (the smoke check of each timed run).
    static func render(_ workflow: JSONValue, engine: Engine, images: Int = 1) async throws {
        let result = try await engine.run(try engine.loader.load(workflow, source: "bench"))
        let saved = engine.writtenFiles(result).count
        guard saved == images else {
            throw ModelBenchmark.SmokeCheckFailure(
                description: "a benchmark workflow saved \(saved) image(s), expected \(images)")
        }
        // Every case times sampling: a seed-taking node answered from the output cache means the
        // case timed only what follows it (as the TAESD case once did, sharing the VAE case's seeds).
        if case .object(let nodes) = workflow {
            for (id, node) in nodes where node["inputs"]?["seed"] != nil || node["inputs"]?["noise_seed"] != nil {
                guard result.executed.contains(id) else {
                    throw ModelBenchmark.SmokeCheckFailure(
                        description:
                            "benchmark workflow node \(id) came from the output cache: the case would not time sampling"
                    )
                }
            }
        }
    }
}
