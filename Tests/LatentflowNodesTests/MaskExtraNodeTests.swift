import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import LatentflowTensor
import XCTest

/// ImageColorToMask against ComfyUI v0.3.64's own node (scripts/make_image_color_mask_fixtures.py),
/// and MaskPreview's file.
final class MaskExtraNodeTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func node(_ name: String) -> any Node { BuiltinNodes.nodes.first { $0.schema.classType == name }!.init() }

    func testImageColorToMaskMatchesComfyUI() async throws {
        let file = try SafeTensorsFile(
            path: Bundle.module.url(
                forResource: "image_color_to_mask", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
        let cases = try JSONSerialization.jsonObject(with: Data(file.metadata["cases"]!.utf8)) as! [String: Int]
        let image = ImageBatch(try file.tensor("image"))
        XCTAssertEqual(cases.count, 4)
        for (key, color) in cases {
            let output = try await node("ImageColorToMask").execute(
                NodeInputs(["image": image, "color": color]), context: context)
            XCTAssertEqual((output.values[0] as! Mask).values, try file.tensor(key), key)
        }
    }

    func testMaskPreviewWritesAGreyPNGToTheTempFolder() async throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("mask-preview-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        let context = ExecutionContext(
            nodeId: "1", classType: "MaskPreview", environment: ExecutionEnvironment(tempDirectory: temp))
        let mask = Mask(try Tensor(shape: [1, 2, 3], scalars: [0, 0.5, 1, 1, 0.25, 0]))
        let output = try await node("MaskPreview").execute(NodeInputs(["mask": mask]), context: context)
        XCTAssertEqual(output.files.count, 1)
        let raster = try ImageCodec.read(path: output.files[0].path)
        XCTAssertEqual([raster.width, raster.height, raster.channels], [3, 2, 3])
        guard case .uint8(let bytes) = raster.samples else { return XCTFail("8-bit PNG expected") }
        XCTAssertEqual(bytes, [0, 0, 0, 127, 127, 127, 255, 255, 255, 255, 255, 255, 63, 63, 63, 0, 0, 0])
    }
}
