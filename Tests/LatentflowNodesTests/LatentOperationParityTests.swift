import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowGraph
@testable import LatentflowNodes

/// The latent operations and PreviewAny's number text against ComfyUI's code, on the cases
/// `scripts/make_latent_operation_fixtures.py` wrote.
final class LatentOperationParityTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(
            forResource: "latent_operations", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()
    static func metadata(_ key: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(file.metadata[key]!.utf8))
    }

    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func node(_ name: String) -> any Node {
        BuiltinNodes.nodes.first { $0.schema.classType == name }!.init()
    }

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testOperationsMatchComfyUI() async throws {
        let cases = try Self.metadata("cases") as! [String: [String: Any]]
        let latent = try Self.file.tensor("latent")
        var checked = 0
        for (name, spec) in cases.sorted(by: { $0.key < $1.key }) {
            guard let nodeName = spec["node"] as? String else { continue }
            var values: [String: any Sendable] = [:]
            for (key, value) in spec where key != "node" {
                values[key] = key == "sharpen_radius" ? (value as! NSNumber).intValue : (value as! NSNumber).doubleValue
            }
            let operation = try await node(nodeName).execute(NodeInputs(values), context: context).values[0]
            let applied = try await node("LatentApplyOperation").execute(
                NodeInputs(["samples": Latent(latent), "operation": operation]), context: context
            ).values[0]
            let actual = try XCTUnwrap(applied as? Latent).samples
            let expected = try Self.file.tensor(name)
            XCTAssertEqual(actual.shape, expected.shape, name)
            XCTAssertLessThan(maxError(actual, expected), 2e-5, name)
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }

    func testGaussianKernelMatchesComfyUI() throws {
        let cases = try Self.metadata("cases") as! [String: [String: Any]]
        for (name, spec) in cases where name.hasPrefix("kernel_") {
            let size = (spec["size"] as! NSNumber).intValue
            let kernel = comfyGaussianKernel(size: size, sigma: (spec["sigma"] as! NSNumber).floatValue)
            let expected = try Self.file.tensor(name)
            XCTAssertLessThan(maxError(try Tensor(shape: [size, size], scalars: kernel), expected), 1e-7, name)
        }
    }

    func testRebatchLatentsMatchesComfyUI() async throws {
        let cases = try Self.metadata("cases") as! [String: [String: Any]]
        let latents = [
            "a": Latent(try Self.file.tensor("rebatch_a")),
            "b": Latent(
                try Self.file.tensor("rebatch_b"), batchIndex: [7, 9], noiseMask: try Self.file.tensor("rebatch_b_mask")
            ),
            "c": Latent(try Self.file.tensor("rebatch_c")),
        ]
        var checked = 0
        for (name, spec) in cases where name.hasPrefix("rebatch") {
            let order = spec["order"] as! [String]
            let size = (spec["batch_size"] as! NSNumber).intValue
            let inputs = NodeInputs(lists: ["latents": order.map { latents[$0]! }, "batch_size": [size]], index: nil)
            let output = try await node("RebatchLatents").execute(inputs, context: context).values[0]
            let batches = try XCTUnwrap(output as? [any Sendable]).map { $0 as! Latent }
            let expected = spec["batches"] as! [[String: Any]]
            XCTAssertEqual(batches.count, expected.count, name)
            for (i, (batch, want)) in zip(batches, expected).enumerated() {
                XCTAssertEqual(batch.samples, try Self.file.tensor("\(name).\(i).samples"), "\(name) batch \(i)")
                XCTAssertEqual(batch.batchIndex, (want["batch_index"] as! [NSNumber]).map(\.intValue), "\(name) \(i)")
                if want["mask"] as! Bool {
                    XCTAssertEqual(batch.noiseMask, try Self.file.tensor("\(name).\(i).mask"), "\(name) mask \(i)")
                } else {
                    XCTAssertNil(batch.noiseMask, "\(name) batch \(i) keeps no all-ones mask")
                }
            }
            checked += 1
        }
        XCTAssertEqual(checked, 4)
    }

    /// The pre-CFG function LatentApplyOperationCFG installs, against ComfyUI v0.3.64's own
    /// (scripts/make_latent_operation_cfg_fixtures.py), with a negative and with cfg 1's zeros.
    func testApplyOperationCFGMatchesComfyUI() async throws {
        let file = try SafeTensorsFile(
            path: Bundle.module.url(
                forResource: "latent_operation_cfg", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
        let operation = try await node("LatentOperationSharpen").execute(
            NodeInputs(["sharpen_radius": 2, "sigma": 0.8, "alpha": 0.6]), context: context
        ).values[0]
        let model = ControlNetNodeTests.model
        let patched = try await node("LatentApplyOperationCFG").execute(
            NodeInputs(["model": model, "operation": operation]), context: context
        ).values[0]
        let patches = try XCTUnwrap(patched as? DiffusionModel).guidance
        XCTAssertEqual(patches.count, 1)
        let hook = try patches[0].makeHook(GuidanceRun(positive: Conditioning([]), makeEntries: { _, _ in [] }))
        guard case .preCFG(let function) = hook else { return XCTFail("a pre-CFG hook expected") }
        let (cond, uncond) = (try file.tensor("cond"), try file.tensor("uncond"))
        for (name, negative, skipped) in [
            ("with_negative", uncond, false), ("skipped", Tensor(shape: cond.shape), true),
        ] {
            let result = try function(
                CFGPredictions(x: cond, sigma: 1, cfg: 5, cond: cond, uncond: negative, uncondSkipped: skipped))
            XCTAssertLessThan(maxError(result.cond, try file.tensor(name)), 2e-5, name)
            XCTAssertEqual(result.uncond, negative, name)
        }
    }

    func testSharpenRefusesARadiusTheLatentCannotReflect() async throws {
        let operation = try await node("LatentOperationSharpen").execute(
            NodeInputs(["sharpen_radius": 9, "sigma": 1.0, "alpha": 0.1]), context: context
        ).values[0]
        let small = Latent(Tensor(shape: [1, 4, 8, 8], repeating: 1))
        do {
            _ = try await node("LatentApplyOperation").execute(
                NodeInputs(["samples": small, "operation": operation]), context: context)
            XCTFail("a radius of 9 on an 8x8 latent must be refused, as torch's reflect padding refuses it")
        } catch {
            XCTAssertTrue("\(error)".contains("sharpen_radius 9"), "\(error)")
        }
    }

    func testPreviewAnyWritesNumbersAsPythonDoes() async throws {
        let pairs = try Self.metadata("python_str") as! [[Any]]
        for pair in pairs {
            let value = (pair[0] as! NSNumber).doubleValue
            let outputs = try await node("PreviewAny").execute(NodeInputs(["source": value]), context: context)
            XCTAssertEqual(outputs.ui, .object([("text", .array([.string(pair[1] as! String)]))]), "str(\(value))")
        }
        let flag = try await node("PreviewAny").execute(NodeInputs(["source": true]), context: context)
        XCTAssertEqual(flag.ui, .object([("text", .array([.string("True")]))]))
    }

    func testPrimitivesPassTheirValueOn() async throws {
        let cases: [(String, any Sendable)] = [
            ("PrimitiveInt", -7), ("PrimitiveFloat", 2.5), ("PrimitiveString", "a cat"),
            ("PrimitiveStringMultiline", "two\nlines"), ("PrimitiveBoolean", true),
        ]
        for (name, value) in cases {
            let outputs = try await node(name).execute(NodeInputs(["value": value]), context: context)
            XCTAssertEqual("\(outputs.values[0])", "\(value)", name)
        }
        let spec = try XCTUnwrap(
            BuiltinNodes.nodes.first { $0.schema.classType == "PrimitiveInt" }?.schema.inputs.first)
        XCTAssertNil(spec.defaultValue, "ComfyUI's PrimitiveInt declares no default")
        XCTAssertEqual(spec.max, Double(Int.max))
    }
}
