import Foundation
import Latentflow
import LatentflowGraph
import LatentflowNodes
import XCTest

/// ImageBlur, ImageSharpen, Morphology and the YCbCr nodes against ComfyUI v0.3.64's own node
/// classes, on the cases `scripts/make_image_filter_fixtures.py` wrote.
final class ImageFilterParityTests: XCTestCase {
    func testFiltersMatchComfyUI() async throws {
        let fixture = try NodeCaseFixture("image_filters")
        var worst: [String: Float] = [:]
        for prefix in ["blur", "sharpen", "morphology", "rgb_to_yuv", "yuv_to_rgb", "quantize"] {
            worst.merge(try await fixture.checkAll(prefix: prefix)) { max($0, $1) }
        }
        XCTAssertEqual(worst.count, 6)
        print("image filter parity (max abs error):", worst.sorted { $0.key < $1.key })
    }

    /// Radii the reflect padding cannot mirror, mismatched planes and non-RGB input are refused.
    func testBadInputsAreRefused() async throws {
        let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
        let small = ImageBatch(Tensor(shape: [1, 3, 5, 3], repeating: 0.5))
        let cases: [(any Node, [String: any Sendable], String)] = [
            (ImageBlur(), ["image": small, "blur_radius": 3, "sigma": 1.0], "'blur_radius' (3) must be smaller"),
            (ImageSharpen(), ["image": small, "sharpen_radius": 5, "sigma": 1.0, "alpha": 1.0], "'sharpen_radius'"),
            (ImageRGBToYUV(), ["image": ImageBatch(Tensor(shape: [1, 3, 5, 4]))], "must have 3 channels"),
            (
                ImageYUVToRGB(), ["Y": small, "U": small, "V": ImageBatch(Tensor(shape: [1, 3, 4, 3]))],
                "input 'V' is 1x3x4"
            ),
            (Morphology(), ["image": small, "operation": "thin", "kernel_size": 3], "'operation' is 'thin'"),
        ]
        for (node, values, expected) in cases {
            do {
                _ = try await node.execute(NodeInputs(values), context: context)
                XCTFail("\(type(of: node)) accepted \(values.keys.sorted())")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
