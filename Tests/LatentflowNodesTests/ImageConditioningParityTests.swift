import Foundation
import Latentflow
import LatentflowGraph
import LatentflowModels
import XCTest

@testable import LatentflowNodes

/// InstructPixToPixConditioning, the InstructPix2Pix UNet's extra channels and
/// SD_4XUpscale_Conditioning against ComfyUI v0.3.64's own code, on the tensors
/// `scripts/make_image_conditioning_fixtures.py` wrote.
final class ImageConditioningParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
    let conditioning = Conditioning([.init(embedding: Tensor(shape: [1, 77, 8]))])

    func fixture() throws -> SafeTensorsFile {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "image_conditioning", withExtension: "safetensors", subdirectory: "Fixtures")
        )
        return try SafeTensorsFile(path: url.path)
    }

    func testInstructPixToPixMatchesComfyUI() async throws {
        let file = try fixture()
        let values: [String: any Sendable] = [
            "positive": conditioning, "negative": conditioning,
            "vae": VAEModel(autoencoder: PixelSpaceAutoencoder(), byteCount: 0),
            "pixels": ImageBatch(try file.tensor("ip2p.pixels")),
        ]
        let outputs = try await InstructPixToPixConditioning().execute(NodeInputs(values), context: context).values
        let positive = try XCTUnwrap((outputs[0] as! Conditioning).entries[0].concatLatentImage)
        let negative = try XCTUnwrap((outputs[1] as! Conditioning).entries[0].concatLatentImage)
        // The crop copies pixels and 2x − 1 is exact in float32.
        XCTAssertEqual(NodeCaseFixture.maxError(positive, try file.tensor("ip2p.concat"), "positive"), 0)
        XCTAssertEqual(NodeCaseFixture.maxError(negative, try file.tensor("ip2p.negative_concat"), "negative"), 0)
        XCTAssertEqual(
            NodeCaseFixture.maxError((outputs[2] as! Latent).samples, try file.tensor("ip2p.latent"), "latent"), 0)

        // The UNet's extra channels: resized (bilinear, centre crop) and stretched to the batch.
        let concat = InpaintConcat(
            latentImage: try file.tensor("concat.noise"), denoiseMask: nil, latentScale: 0.18215, instructPixToPix: true
        )
        var entry = conditioning.entries[0]
        entry.concatLatentImage = try file.tensor("concat.image")
        let resized = NodeCaseFixture.maxError(
            try concat.channels(for: entry), try file.tensor("concat.expected"), "concat")
        XCTAssertLessThanOrEqual(resized, 1e-6)
        XCTAssertEqual(
            NodeCaseFixture.maxError(
                try concat.channels(for: conditioning.entries[0]), try file.tensor("concat.none"), "none"), 0)
        print("InstructPix2Pix concat channels max abs error:", resized)
    }

    func testUpscaleConditioningMatchesComfyUI() async throws {
        let file = try fixture()
        var worst: Float = 0
        for (name, ratio, augmentation) in [
            ("x4.default", 4.0, 0.0), ("x4.ratio2.5", 2.5, 0.3), ("x4.ratio1.3", 1.3, 1.0),
        ] {
            let values: [String: any Sendable] = [
                "images": ImageBatch(try file.tensor("x4.images")), "positive": conditioning,
                "negative": conditioning, "scale_ratio": ratio, "noise_augmentation": augmentation,
            ]
            let outputs = try await SD_4XUpscale_Conditioning().execute(NodeInputs(values), context: context).values
            for side in outputs[0...1] {
                let entry = (side as! Conditioning).entries[0]
                XCTAssertEqual(entry.noiseAugmentation, augmentation, name)
                let error = NodeCaseFixture.maxError(
                    try XCTUnwrap(entry.concatImage), try file.tensor(name + ".concat"), name)
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, 1e-5, name)
            }
            XCTAssertEqual(
                NodeCaseFixture.maxError((outputs[2] as! Latent).samples, try file.tensor(name + ".latent"), name), 0)
        }
        print("SD_4XUpscale_Conditioning concat_image max abs error:", worst)
    }

    func testTooSmallInputsAreRefused() async throws {
        let tiny = ImageBatch(Tensor(shape: [1, 5, 9, 3]))
        let cases: [(any Node, [String: any Sendable], String)] = [
            (
                InstructPixToPixConditioning(),
                [
                    "positive": conditioning, "negative": conditioning, "pixels": tiny,
                    "vae": VAEModel(autoencoder: PixelSpaceAutoencoder(), byteCount: 0),
                ], "must be at least 8x8"
            ),
            (
                SD_4XUpscale_Conditioning(),
                [
                    "images": tiny, "positive": conditioning, "negative": conditioning, "scale_ratio": 0.1,
                    "noise_augmentation": 0.0,
                ], "smaller than 4 pixels"
            ),
        ]
        for (node, values, expected) in cases {
            do {
                _ = try await node.execute(NodeInputs(values), context: context)
                XCTFail("\(type(of: node)) accepted a tiny image")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
