import Foundation
import Latentflow
import XCTest

/// Test-only output node: writes a decoded float image as `image_tensor` in a safetensors file, so
/// the parity test compares float images and not only their 8-bit rounding.
struct SaveImageTensor: Node {
    static let images = Input<ImageBatch>("images")
    static let name = Input.string("filename", default: "image.safetensors")
    static let schema = NodeSchema(
        "LatentflowTestSaveImageTensor", category: "_for_testing", inputs: [images, name], isOutputNode: true)

    func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let file = context.environment.outputDirectory.appendingPathComponent(try inputs[Self.name])
        try SafeTensorsWriter.write([.init("image_tensor", try inputs[Self.images].pixels)], to: file)
        return NodeOutputs(values: [])
    }
}

enum ParityTestNodes: NodePack {
    static let name = "parity-test"
    static let nodes: [any Node.Type] = [SaveImageTensor.self]
}

/// Whole workflows against ComfyUI's own output on a full-size SD1.5 checkpoint with random
/// weights (scripts/make_comfyui_parity_fixtures.py). The 2 GB checkpoint is not committed:
///     swift run -c release latentflow-tools make-tiny-model --full-size \
///         --output /tmp/parity/models/checkpoints/latentflow-random-sd15.safetensors
///     LATENTFLOW_PARITY_MODELS=/tmp/parity/models swift test -c release --filter ComfyUIParityTests
///     (the first command also writes models/loras/latentflow-random-sd15-lora.safetensors there)
/// Bounds: final latents and float images PSNR >= 90 dB; 8-bit images equal but for rare pixels one
/// level off.
final class ComfyUIParityTests: XCTestCase {
    func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        let peak = Double((b.scalars.max() ?? 0) - (b.scalars.min() ?? 0))
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(b.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    func testWorkflowsMatchComfyUI() async throws {
        try await checkWorkflows(fixture: "comfyui_parity", checkpoint: "latentflow-random-sd15.safetensors")
    }

    /// SD2.1-768 layout (scripts/make_random_sd21_checkpoint.py): OpenCLIP ViT-H text tower,
    /// v-prediction guessed from the weights as ComfyUI guesses it.
    func testSD21WorkflowsMatchComfyUI() async throws {
        try await checkWorkflows(fixture: "comfyui_parity_sd21", checkpoint: "latentflow-random-sd21.safetensors")
    }

    func checkWorkflows(fixture resource: String, checkpoint: String) async throws {
        guard let models = ProcessInfo.processInfo.environment["LATENTFLOW_PARITY_MODELS"],
            FileManager.default.fileExists(atPath: models + "/checkpoints/" + checkpoint)
        else {
            throw XCTSkip("set LATENTFLOW_PARITY_MODELS to a models folder holding checkpoints/\(checkpoint)")
        }
        let fixture = Bundle.module.url(forResource: resource, withExtension: "safetensors", subdirectory: "Fixtures")!
        let reference = try SafeTensorsFile(path: fixture.path)
        let workflows = try JSONValue.parse(XCTUnwrap(reference.metadata["workflows"]))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-parity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        // The repository is the base folder: the img2img workflow loads input/example-gradient.png.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let engine = try Engine(
            paths: ModelPaths(
                baseDirectory: repository, modelsDirectory: URL(fileURLWithPath: models), outputDirectory: output),
            packs: [ParityTestNodes.self])
        var summary: [String] = []
        for (name, json) in try XCTUnwrap(workflows.objectPairs) {
            var loaded = try engine.loader.load(json, source: name)
            loaded.workflow["90"] = WorkflowNode(
                id: "90", classType: SaveImageTensor.schema.classType,
                inputs: [
                    ("images", .link(nodeId: "7", slot: 0)), ("filename", .constant(.string("\(name).safetensors"))),
                ])
            let result = try await engine.run(loaded)
            let image = try SafeTensorsFile(path: output.appendingPathComponent("\(name).safetensors").path).tensor(
                "image_tensor")
            let imagePSNR = psnr(image, try reference.tensor(name + ".image"))
            let latentFile = try XCTUnwrap(
                result.ui.compactMap { $0.ui["latents"]?.arrayValue?.first?["filename"]?.stringValue }.first)
            let latent = try SafeTensorsFile(path: output.appendingPathComponent(latentFile).path).tensor(
                "latent_tensor")
            let latentPSNR = psnr(latent, try reference.tensor(name + ".latent"))
            let expected = try reference.tensor(name + ".png")  // [B, H, W, 3] uint8
            var differing = 0, maxDifference: Float = 0
            for (index, file) in engine.writtenFiles(result).filter({ $0.pathExtension == "png" }).enumerated() {
                guard case .uint8(let pixels) = try ImageCodec.read(path: file.path).samples else {
                    return XCTFail("8-bit expected")
                }
                let plane = pixels.count
                for (i, value) in pixels.enumerated() {
                    let difference = abs(Float(value) - expected.scalars[index * plane + i])
                    if difference > 0 { differing += 1 }
                    maxDifference = max(maxDifference, difference)
                }
            }
            summary.append(
                "parity \(name): latent PSNR \(String(format: "%.1f", latentPSNR)) dB, image PSNR \(String(format: "%.1f", imagePSNR)) dB; "
                    + "8-bit pixels differing \(differing) of \(expected.count), max \(maxDifference)")
            print(summary.last!)
            XCTAssertGreaterThanOrEqual(latentPSNR, 90, name)
            XCTAssertGreaterThanOrEqual(imagePSNR, 90, name)
            XCTAssertLessThanOrEqual(maxDifference, 1, name)
            XCTAssertLessThanOrEqual(Double(differing) / Double(expected.count), 0.01, name)
        }
        print(summary.joined(separator: "\n"))
    }
}
