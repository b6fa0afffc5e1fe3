import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// Image nodes and the lanczos / bislerp resizes against ComfyUI's, on the cases
/// `scripts/make_image_node_fixtures.py` wrote (torch transcriptions; Pillow for Lanczos).
final class ImageNodeParityTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "image_nodes", withExtension: "safetensors", subdirectory: "Fixtures")!
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

    /// A fixture value as the Swift type its port carries.
    func value(_ typed: [Any]) throws -> any Sendable {
        let (type, raw) = (typed[0] as! String, typed[1])
        switch type {
        case "IMAGE": return ImageBatch(try Self.file.tensor(raw as! String))
        case "LATENT": return Latent(try Self.file.tensor(raw as! String))
        case "MASK": return Mask(try Self.file.tensor(raw as! String))
        case "INT": return (raw as! NSNumber).intValue
        case "FLOAT": return (raw as! NSNumber).doubleValue
        case "BOOLEAN": return (raw as! NSNumber).boolValue
        default: return raw as! String
        }
    }

    /// The expected tensor of an output (8-bit levels are stored as uint8).
    func expectedTensor(_ typed: [Any]) throws -> Tensor {
        let tensor = try Self.file.tensor(typed[1] as! String)
        // Divided, not multiplied by 1/255, as numpy divides.
        return typed[0] as! String == "IMAGE_255" ? tensor.mapScalars { $0 / 255 } : tensor
    }

    func maxError(_ actual: Tensor, _ expected: Tensor, _ name: String) -> Float {
        XCTAssertEqual(actual.shape, expected.shape, name)
        guard actual.shape == expected.shape else { return .infinity }
        // NaN compares as an error unless both sides are NaN.
        return zip(actual.scalars, expected.scalars).reduce(0) {
            $1.0.isNaN && $1.1.isNaN ? $0 : max($0, $1.0.isNaN || $1.1.isNaN ? .infinity : abs($1.0 - $1.1))
        }
    }

    /// Runs one case, returning the max |ours − ComfyUI's| over its outputs.
    func runCase(_ name: String) async throws -> Float {
        let spec = Self.cases[name]!
        let node = Self.node(spec["node"] as! String)
        var values: [String: any Sendable] = [:]
        var lists: [String: [any Sendable]] = [:]
        for (input, typed) in spec["inputs"] as! [String: [Any]] {
            if typed[0] as! String == "IMAGE_LIST" {
                lists[input] = try (typed[1] as! [String]).map { ImageBatch(try Self.file.tensor($0)) }
            } else {
                values[input] = try value(typed)
            }
        }
        for (param, typed) in spec["params"] as! [String: [Any]] { values[param] = try value(typed) }
        let inputs =
            lists.isEmpty ? NodeInputs(values) : NodeInputs(lists: values.mapValues { [$0] }.merging(lists) { $1 })
        let outputs = try await node.init().execute(inputs, context: context).values
        var worst: Float = 0
        for (slot, typed) in (spec["outputs"] as! [[Any]]).enumerated() {
            let actual = outputs[slot]
            switch typed[0] as! String {
            case "INT": XCTAssertEqual(actual as? Int, (typed[1] as! NSNumber).intValue, "\(name) output \(slot)")
            case "IMAGE_LIST":
                let batches = actual as! [any Sendable]
                let keys = typed[1] as! [String]
                XCTAssertEqual(batches.count, keys.count, name)
                for (batch, key) in zip(batches, keys) {
                    worst = max(worst, maxError((batch as! ImageBatch).pixels, try Self.file.tensor(key), name))
                }
            case "LATENT": worst = max(worst, maxError((actual as! Latent).samples, try expectedTensor(typed), name))
            case "MASK": worst = max(worst, maxError((actual as! Mask).values, try expectedTensor(typed), name))
            default: worst = max(worst, maxError((actual as! ImageBatch).pixels, try expectedTensor(typed), name))
            }
        }
        return worst
    }

    func testNodesMatchComfyUI() async throws {
        var worst: [String: Float] = [:]
        for name in Self.cases.keys.sorted() {
            let error = try await runCase(name)
            let node = Self.cases[name]!["node"] as! String
            worst[node] = max(worst[node] ?? 0, error)
            // "exact": copies, and Pillow's Lanczos, which works on 8-bit levels in integer
            // arithmetic; "float": float32 arithmetic (resizes, slerp, noise) within rounding.
            let tolerance: Float = Self.cases[name]!["kind"] as! String == "exact" ? 0 : 1e-5
            XCTAssertLessThanOrEqual(error, tolerance, name)
        }
        print("image node parity (max abs error):", worst.sorted { $0.key < $1.key })
    }

    /// Pillow's Lanczos on single-channel (mode L) planes, through the tensor API.
    func testLanczosOneChannelAndRefusals() throws {
        let resized = try Self.file.tensor("gray.input").resizedLanczos(height: 4, width: 9)
        XCTAssertEqual(maxError(resized, try Self.file.tensor("gray.expected"), "gray"), 0)
        XCTAssertThrowsError(try Tensor(shape: [1, 4, 2, 2]).resizedLanczos(height: 3, width: 3)) { error in
            XCTAssertTrue("\(error)".contains("1- or 3-channel"), "\(error)")
        }
    }

    /// Sizes that would come out empty, and Lanczos on RGBA, are refused with the node's reason.
    func testBadInputsAreRefused() async throws {
        let image = ImageBatch(Tensor(shape: [1, 2, 9, 3], repeating: 0.5))
        let cases: [(any Node, [String: any Sendable], String)] = [
            (
                ImageScaleToMaxDimension(), ["image": image, "upscale_method": "area", "largest_size": 2],
                "largest_size"
            ),
            (
                ResizeAndPadImage(),
                [
                    "image": image, "target_width": 4, "target_height": 4, "padding_color": "white",
                    "interpolation": "area",
                ], "would be 4x0"
            ),
            (
                ImageScale(),
                [
                    "image": ImageBatch(Tensor(shape: [1, 2, 2, 4])), "upscale_method": "lanczos", "width": 3,
                    "height": 3, "crop": "disabled",
                ], "1- or 3-channel"
            ),
        ]
        for (node, values, reason) in cases {
            do {
                _ = try await node.execute(NodeInputs(values), context: context)
                XCTFail("\(type(of: node)) accepted \(values)")
            } catch {
                XCTAssertTrue("\(error)".contains(reason), "\(type(of: node)): \(error)")
            }
        }
    }
}
