import Foundation
import Latentflow

/// The whole 4-step LCM txt2img workflow through the real executor, on a given checkpoint:
/// two seeds per size in one process: only the first run of all loads the checkpoint and encodes
/// the prompts, the others sample and decode.
enum WorkflowBenchmark {
    /// PyTorch FLOP-counter totals for a 4-step LCM image at cfg 1 (UNet ×4 + VAE decode + CLIP ×2).
    static let teraflop: [Int: Double] = [256: 1.36, 512: 5.74]

    static func run(checkpoint: URL, sizes: [Int], reference: ReferenceRate, lowMemory: Bool) async throws
        -> [KernelBenchmark]
    {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "latentflow-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        // The checkpoint's folder becomes the checkpoints folder, through an extra_model_paths.yaml.
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let yaml = base.appendingPathComponent("extra_model_paths.yaml")
        try Data("bench:\n    checkpoints: \(checkpoint.deletingLastPathComponent().path)\n".utf8).write(to: yaml)
        let engine = try Engine(
            paths: ModelPaths(
                baseDirectory: base, outputDirectory: base.appendingPathComponent("output"), extraPaths: [yaml]),
            lowMemory: lowMemory)
        var results: [KernelBenchmark] = []
        for size in sizes {
            for (label, seed) in [("seed 1", 1), ("seed 2, same process", 2)] {
                let workflow = lcmWorkflow(size: size, seed: seed, checkpoint: checkpoint.lastPathComponent)
                let name = "LCM 4 steps \(size)px, \(label)" + (lowMemory ? ", low memory" : "")
                results.append(
                    try await reference.measureOnce(name, gflop: (teraflop[size] ?? 0) * 1000) {
                        _ = try await engine.run(try engine.loader.load(workflow, source: "bench"))
                    })
            }
        }
        return results
    }

    static func lcmWorkflow(size: Int, seed: Int, checkpoint: String) -> JSONValue {
        func node(_ type: String, _ inputs: [(String, JSONValue)]) -> JSONValue {
            .object([("class_type", .string(type)), ("inputs", .object(inputs))])
        }
        func link(_ id: String, _ slot: Int) -> JSONValue { .array([.string(id), .int(Int64(slot))]) }
        return .object([
            ("1", node("CheckpointLoaderSimple", [("ckpt_name", .string(checkpoint))])),
            (
                "2",
                node(
                    "ModelSamplingDiscrete",
                    [("model", link("1", 0)), ("sampling", .string("lcm")), ("zsnr", .bool(false))])
            ),
            ("3", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string("a photo of a cat"))])),
            ("4", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string(""))])),
            (
                "5",
                node(
                    "EmptyLatentImage",
                    [("width", .int(Int64(size))), ("height", .int(Int64(size))), ("batch_size", .int(1))])
            ),
            (
                "6",
                node(
                    "KSampler",
                    [
                        ("model", link("2", 0)), ("seed", .int(Int64(seed))), ("steps", .int(4)), ("cfg", .double(1)),
                        ("sampler_name", .string("lcm")), ("scheduler", .string("sgm_uniform")),
                        ("positive", link("3", 0)),
                        ("negative", link("4", 0)), ("latent_image", link("5", 0)), ("denoise", .double(1)),
                    ])
            ),
            ("7", node("VAEDecode", [("samples", link("6", 0)), ("vae", link("1", 2))])),
            ("8", node("SaveImage", [("images", link("7", 0)), ("filename_prefix", .string("bench"))])),
        ])
    }
}
