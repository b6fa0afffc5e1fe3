import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// VAELoader's `taesd` and `pixel_space` (ComfyUI `nodes.py` `VAELoader.vae_list` / `load_vae`):
/// `taesd` is listed only when `models/vae_approx` holds both halves, loads the repository's
/// stand-in, and runs through VAEEncode / VAEDecode.
final class TAESDNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("latentflow-taesd-\(UUID().uuidString)")
        for folder in ["vae", "vae_approx"] {
            try FileManager.default.createDirectory(
                at: base.appendingPathComponent("models/\(folder)"), withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func copyStandIn(_ name: String) throws {
        try FileManager.default.copyItem(
            at: Self.repository.appendingPathComponent("models/vae_approx/\(name)"),
            to: base.appendingPathComponent("models/vae_approx/\(name)"))
    }

    func choices() throws -> [String] {
        let spec = try XCTUnwrap(VAELoader.schema.inputs.first { $0.name == "vae_name" })
        return try XCTUnwrap(spec.options).choices(in: try ModelPaths(baseDirectory: base))
    }

    func testTAESDIsListedOnlyWhenBothHalvesExist() throws {
        XCTAssertEqual(try choices(), ["pixel_space"])
        try copyStandIn("taesd_decoder.safetensors")
        XCTAssertEqual(try choices(), ["pixel_space"])
        try copyStandIn("taesd_encoder.safetensors")
        XCTAssertEqual(try choices(), ["taesd", "pixel_space"])
    }

    func value<N: Node, T>(_ node: N, _ values: [String: any Sendable], as type: T.Type = T.self) async throws -> T {
        let outputs = try await run(node, values)
        return try XCTUnwrap(outputs.values.first as? T)
    }

    func run<N: Node>(_ node: N, _ values: [String: any Sendable]) async throws -> NodeOutputs {
        let environment = ExecutionEnvironment(
            files: try ModelPaths(baseDirectory: base), services: [BuiltinNodeSettings()])
        let context = ExecutionContext(nodeId: "1", classType: N.schema.classType, environment: environment)
        return try await node.execute(NodeInputs(values), context: context)
    }

    func image(height: Int, width: Int) throws -> ImageBatch {
        let values = (0..<(height * width * 3)).map { Float(($0 * 37) % 101) / 100 }
        return try ImageBatch(channelsFirst: Tensor(shape: [1, 3, height, width], scalars: values))
    }

    func testTAESDEncodesAndDecodesThroughTheVAENodes() async throws {
        try copyStandIn("taesd_encoder.safetensors")
        try copyStandIn("taesd_decoder.safetensors")
        let vae: VAEModel = try await value(VAELoader(), ["vae_name": "taesd"])
        let taesd = try XCTUnwrap(vae.autoencoder as? TAESD)
        XCTAssertEqual(taesd.vaeScale, 0.18215)
        XCTAssertNotNil(vae.weights["taesd_encoder.0.weight"])
        // 70x60 crops to 64x56 (whole latent pixels), as vae_encode_crop_pixels does.
        let latent: Latent = try await value(VAEEncode(), ["pixels": try image(height: 60, width: 70), "vae": vae])
        XCTAssertEqual(latent.samples.shape, [1, 4, 7, 8])
        let decoded: ImageBatch = try await value(VAEDecode(), ["samples": latent, "vae": vae])
        let pixels = try decoded.channelsFirst()
        XCTAssertEqual(pixels.shape, [1, 3, 56, 64])
        let expected = try taesd.decode(latent.samples).scaled(by: 1, adding: 1).scaled(by: 0.5).clamped(min: 0, max: 1)
        XCTAssertEqual(pixels.scalars, expected.scalars)
    }

    func testPixelSpaceVAEIsTheIdentity() async throws {
        let vae: VAEModel = try await value(VAELoader(), ["vae_name": "pixel_space"])
        let input = try image(height: 5, width: 7)
        let latent: Latent = try await value(VAEEncode(), ["pixels": input, "vae": vae])
        XCTAssertEqual(latent.samples.shape, [1, 3, 5, 7])
        XCTAssertEqual(latent.samples.scalars, try input.channelsFirst().scaled(by: 2, adding: -1).scalars)
        let decoded: ImageBatch = try await value(VAEDecode(), ["samples": latent, "vae": vae])
        let roundTrip = try decoded.channelsFirst().scalars, original = try input.channelsFirst().scalars
        XCTAssertLessThan(zip(roundTrip, original).map { abs($0 - $1) }.max() ?? 1, 1e-6)
    }

    func testTAESDWithoutItsFilesFailsClearly() async throws {
        do {
            _ = try await run(VAELoader(), ["vae_name": "taesd"])
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue("\(error)".contains("taesd_encoder"), "\(error)")
        }
    }
}
