import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// The unCLIP `y` vector against ComfyUI v0.3.64's own `unclip_adm` and
/// `CLIPEmbeddingNoiseAugmentation` (scripts/make_unclip_fixtures.py): one image, a batch of two,
/// two chained applies (merged and noised again) and a seed below 10.
final class UnCLIPNoiseAugmentationTests: XCTestCase {
    func testAdmMatchesComfyUI() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "unclip_adm", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensorsFile(path: url.path)
        let json = try XCTUnwrap(file.metadata["cases"]?.data(using: .utf8))
        let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: [String: Any]])
        XCTAssertEqual(cases.count, 4)
        var worst: Float = 0
        for (name, spec) in cases.sorted(by: { $0.key < $1.key }) {
            let images = try (spec["applies"] as! [[String: Any]]).map {
                UnCLIPNoiseAugmentation.Image(
                    embeddings: try file.tensor($0["embeds"] as! String),
                    strength: ($0["strength"] as! NSNumber).doubleValue,
                    noiseAugmentation: ($0["noise_augmentation"] as! NSNumber).doubleValue)
            }
            let seed = UInt64((spec["seed"] as! NSNumber).intValue)
            let adm = try UnCLIPNoiseAugmentation.adm(images, seed: seed)
            let expected = try file.tensor(name)
            XCTAssertEqual(adm.shape, expected.shape, name)
            let error = zip(adm.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            worst = max(worst, error)
            XCTAssertLessThanOrEqual(error, 1e-5, name)
        }
        print("unCLIP adm max abs error:", worst)
    }

    func testMismatchedWidthsAreRefused() {
        let images = [
            UnCLIPNoiseAugmentation.Image(embeddings: Tensor(shape: [1, 32]), strength: 1, noiseAugmentation: 0),
            UnCLIPNoiseAugmentation.Image(embeddings: Tensor(shape: [1, 48]), strength: 1, noiseAugmentation: 0),
        ]
        XCTAssertThrowsError(try UnCLIPNoiseAugmentation.adm(images, seed: 1))
        XCTAssertThrowsError(try UnCLIPNoiseAugmentation.adm([], seed: 1))
    }
}
