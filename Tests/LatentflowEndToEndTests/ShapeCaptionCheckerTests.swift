import Foundation
import Latentflow
import XCTest

/// The checker that scores a picture of the shapes data set against its caption (the measure of
/// whether a trained model draws what the prompt asks, issue 23) reads images as its reference,
/// `scripts/shapes_dataset.py`'s `check`, does: clean, noisy and blurred pictures alike.
final class ShapeCaptionCheckerTests: XCTestCase {
    func testCheckerReadsTheFixtureImagesAsTheReferenceDoes() throws {
        let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let file = try SafeTensorsFile(path: fixtures.appendingPathComponent("shapes_checker.safetensors").path)
        let shape = try file.entry("images").shape
        let pixels = try file.integers("images").map { UInt8($0) }
        let references = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("shapes_checker.json")))
                as? [[String: Any]])
        XCTAssertEqual(shape, [references.count, 64, 64, 3])
        let size = 64 * 64 * 3
        for (k, reference) in references.enumerated() {
            let reading = ShapeCaptionChecker.read(
                pixels: Array(pixels[(k * size)..<((k + 1) * size)]), width: 64, height: 64, channels: 3)
            let want = ShapeCaptionChecker.Reading(
                shape: reference["shape"] as? String, colour: reference["colour"] as? String,
                background: reference["background"] as? String ?? "", size: reference["size"] as? String,
                position: reference["position"] as? String)
            XCTAssertEqual(reading, want, "image \(k): \(reference["caption"] ?? "")")
        }
    }
}
