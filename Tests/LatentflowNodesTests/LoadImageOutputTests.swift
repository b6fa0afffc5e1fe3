import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// LoadImageOutput: LoadImage over the output folder, with ComfyUI's combo declaration.
final class LoadImageOutputTests: XCTestCase {
    func testLoadsAnOutputImageByPlainAndAnnotatedName() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("output/sub")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        // 3x2 RGBA with known 8-bit levels: the IMAGE is level / 255, the mask 1 − alpha / 255.
        let levels: [UInt8] = (0..<24).map { UInt8(($0 * 37 + 11) % 256) }
        let png = try ImageCodec.encodePNG(RasterImage(width: 3, height: 2, channels: 4, samples: .uint8(levels)))
        try png.write(to: output.appendingPathComponent("shot.png"))
        try Data("not an image".utf8).write(to: root.appendingPathComponent("output/notes.txt"))
        let paths = try ModelPaths(baseDirectory: root)
        let environment = ExecutionEnvironment(files: paths)
        XCTAssertEqual(paths.files(in: "output"), ["sub/shot.png"])

        let context = ExecutionContext(nodeId: "1", classType: "LoadImageOutput", environment: environment)
        for name in ["sub/shot.png", "sub/shot.png [output]"] {
            let outputs = try await LoadImageOutput().execute(NodeInputs(["image": name]), context: context).values
            let image = (outputs[0] as! ImageBatch).pixels, mask = (outputs[1] as! Mask).values
            XCTAssertEqual(image.shape, [1, 2, 3, 3], name)
            XCTAssertEqual(mask.shape, [1, 2, 3], name)
            for pixel in 0..<6 {
                for channel in 0..<3 {
                    XCTAssertEqual(image.scalars[pixel * 3 + channel], Float(levels[pixel * 4 + channel]) / 255, name)
                }
                XCTAssertEqual(mask.scalars[pixel], 1 - Float(levels[pixel * 4 + 3]) / 255, accuracy: 1e-7, name)
            }
        }
        do {
            _ = try await LoadImageOutput().execute(NodeInputs(["image": "../escape.png"]), context: context)
            XCTFail("a name outside the output folder was loaded")
        } catch {}
    }

    /// The combo as ComfyUI declares it: the output folder's files, uploads into "output".
    func testObjectInfoDeclaresTheOutputFolder() throws {
        let spec = LoadImageOutput.schema.inputs[0]
        XCTAssertEqual(spec.options?.folder, "output")
        XCTAssertTrue(spec.imageUpload)
        XCTAssertEqual(spec.imageFolder, "output")
    }
}
