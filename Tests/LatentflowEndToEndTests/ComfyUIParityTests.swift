import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowTensor
import XCTest

/// Whole workflows against ComfyUI's own output on a full-size SD1.5 checkpoint with random
/// weights (scripts/make_comfyui_parity_fixtures.py). The 2 GB checkpoint is not committed:
///     swift run -c release latentflow make-tiny-model --full-size \
///         --output /tmp/parity/models/checkpoints/latentflow-random-sd15.safetensors
///     LATENTFLOW_PARITY_MODELS=/tmp/parity/models swift test -c release --filter ComfyUIParityTests
/// Bounds: final latents PSNR >= 90 dB; 8-bit images equal but for rare pixels one level off.
final class ComfyUIParityTests: XCTestCase {
    func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        let peak = Double((b.scalars.max() ?? 0) - (b.scalars.min() ?? 0))
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(b.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    func testWorkflowsMatchComfyUI() async throws {
        guard let models = ProcessInfo.processInfo.environment["LATENTFLOW_PARITY_MODELS"] else {
            throw XCTSkip("set LATENTFLOW_PARITY_MODELS to a models folder holding checkpoints/latentflow-random-sd15.safetensors")
        }
        let fixture = Bundle.module.url(forResource: "comfyui_parity", withExtension: "safetensors", subdirectory: "Fixtures")!
        let reference = try SafeTensorsFile(path: fixture.path)
        let workflows = try JSONValue.parse(XCTUnwrap(reference.metadata["workflows"]))
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-parity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let engine = try Engine(paths: ModelPaths(baseDirectory: output, modelsDirectory: URL(fileURLWithPath: models), outputDirectory: output))
        for (name, json) in try XCTUnwrap(workflows.objectPairs) {
            let result = try await engine.run(try engine.loader.load(json, source: name))
            let latentFile = try XCTUnwrap(result.ui.compactMap { $0.ui["latents"]?.arrayValue?.first?["filename"]?.stringValue }.first)
            let latent = try SafeTensorsFile(path: output.appendingPathComponent(latentFile).path).tensor("latent_tensor")
            let latentPSNR = psnr(latent, try reference.tensor(name + ".latent"))
            let expected = try reference.tensor(name + ".png")                      // [B, H, W, 3] uint8
            var differing = 0, maxDifference: Float = 0
            for (index, file) in engine.writtenFiles(result).filter({ $0.pathExtension == "png" }).enumerated() {
                guard case .uint8(let pixels) = try ImageCodec.read(path: file.path).samples else { return XCTFail("8-bit expected") }
                let plane = pixels.count
                for (i, value) in pixels.enumerated() {
                    let difference = abs(Float(value) - expected.scalars[index * plane + i])
                    if difference > 0 { differing += 1 }
                    maxDifference = max(maxDifference, difference)
                }
            }
            print("parity \(name): latent PSNR \(String(format: "%.1f", latentPSNR)) dB; 8-bit pixels differing \(differing) of \(expected.count), max \(maxDifference)")
            XCTAssertGreaterThanOrEqual(latentPSNR, 90, name)
            XCTAssertLessThanOrEqual(maxDifference, 1, name)
            XCTAssertLessThanOrEqual(Double(differing) / Double(expected.count), 0.01, name)
        }
    }
}
