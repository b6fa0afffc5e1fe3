import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// The mask and composite nodes against ComfyUI v0.3.64's own classes (comfy_extras/nodes_mask.py,
/// nodes.ImagePadForOutpaint), run by `scripts/make_inpaint_fixtures.py` (`mask_nodes.safetensors`).
final class MaskNodeParityTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "mask_nodes", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        let json = file.metadata["cases"]!.data(using: .utf8)!
        return try! JSONSerialization.jsonObject(with: json) as! [String: [String: Any]]
    }()

    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    static func node(_ name: String) -> any Node.Type {
        BuiltinNodes.nodes.first { $0.schema.classType == name }!
    }

    /// The case's inputs as node values: tensor names become MASK, IMAGE or LATENT values.
    func inputs(_ spec: [String: Any]) throws -> [String: any Sendable] {
        var values: [String: any Sendable] = [:]
        for (key, value) in spec where key != "node" {
            switch value {
            case let flag as NSNumber where ["tapered_corners", "resize_source"].contains(key):
                values[key] = flag.boolValue
            case let number as NSNumber:
                values[key] = key == "value" ? number.doubleValue : number.intValue
            case let name as String where Self.file.keys.contains(name):
                let tensor = try Self.file.tensor(name)
                if name.hasSuffix("_img") {
                    values[key] = ImageBatch(tensor)
                } else if name.hasSuffix("_lat") {
                    values[key] = Latent(tensor)
                } else {
                    values[key] = Mask(tensor)
                }
            case let text as String: values[key] = text
            default: break
            }
        }
        return values
    }

    func testMaskNodesMatchComfyUI() async throws {
        for (name, spec) in Self.cases.sorted(by: { $0.key < $1.key }) where name != "pad" {
            let node = Self.node(spec["node"] as! String).init()
            let output = try await node.execute(NodeInputs(try inputs(spec)), context: context).values[0]
            let actual: Tensor
            switch output {
            case let mask as Mask: actual = mask.values
            case let image as ImageBatch: actual = image.pixels
            case let latent as Latent: actual = latent.samples
            default: return XCTFail("\(name): unexpected output \(type(of: output))")
            }
            let expected = try Self.file.tensor(name)
            XCTAssertEqual(actual.shape, expected.shape, name)
            // Every formula here is elementwise float32 in torch's order, or a resize already
            // exact against PyTorch: bit for bit.
            let error = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
            print("mask node \(name) vs ComfyUI: max abs error \(error)")
            XCTAssertLessThanOrEqual(error, 1e-6, "\(name): max error \(error)")
        }
    }

    func testImagePadForOutpaint() async throws {
        let spec = Self.cases["pad"]!
        var values = try inputs(spec)
        let image = try Self.file.tensor("src_img")
        values["image"] = ImageBatch(try Tensor.concat([image, image], axis: 0))
        let outputs = try await ImagePadForOutpaint().execute(NodeInputs(values), context: context).values
        XCTAssertEqual((outputs[0] as! ImageBatch).pixels, try Self.file.tensor("pad_image"))
        let mask = (outputs[1] as! Mask).values, expected = try Self.file.tensor("pad_mask")
        XCTAssertEqual(mask.shape, expected.shape)
        XCTAssertEqual(mask.scalars, expected.scalars)
    }

    func testSimpleMaskNodes() async throws {
        let mask = Mask(try Tensor(shape: [1, 2, 2], scalars: [0, 0.25, 0.5, 1]))
        let inverted = try await InvertMask().execute(NodeInputs(["mask": mask]), context: context).values[0] as! Mask
        XCTAssertEqual(inverted.values.scalars, [1, 0.75, 0.5, 0])
        let image =
            try await MaskToImage().execute(NodeInputs(["mask": mask]), context: context).values[0] as! ImageBatch
        XCTAssertEqual(image.pixels.shape, [1, 2, 2, 3])
        XCTAssertEqual(image.pixels.scalars, [0, 0, 0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 1, 1, 1])
        let green =
            try await ImageToMask().execute(NodeInputs(["image": image, "channel": "green"]), context: context)
            .values[0] as! Mask
        XCTAssertEqual(green.values, try Tensor(shape: [1, 2, 2], scalars: [0, 0.25, 0.5, 1]))
        let solid =
            try await SolidMask().execute(NodeInputs(["value": 0.3, "width": 3, "height": 2]), context: context)
            .values[0] as! Mask
        XCTAssertEqual(solid.values.shape, [1, 2, 3])
        XCTAssertEqual(solid.values.scalars[0], Float(0.3))
    }

    func testBadMasksAreClearErrors() async throws {
        let flat = Mask(Tensor(shape: [4]))
        for node in [GrowMask.self as any Node.Type, FeatherMask.self, CropMask.self] {
            var values: [String: any Sendable] = ["mask": flat, "expand": 1, "tapered_corners": true]
            for key in ["left", "top", "right", "bottom", "x", "y", "width", "height"] { values[key] = 1 }
            do {
                _ = try await node.init().execute(NodeInputs(values), context: context)
                XCTFail("\(node): no error for a 1-D mask")
            } catch {
                XCTAssertTrue("\(error)".contains("input 'mask'"), "\(node): \(error)")
            }
        }
        let image = ImageBatch(Tensor(shape: [1, 2, 2, 3]))
        do {
            _ = try await ImageToMask().execute(NodeInputs(["image": image, "channel": "alpha"]), context: context)
            XCTFail("no error for alpha of an RGB image")
        } catch {
            XCTAssertTrue("\(error)".contains("channel"), "\(error)")
        }
    }
}
