import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// EasyCache against ComfyUI v0.3.64's own `nodes_easycache.py` EasyCacheNode
/// (scripts/make_easycache_fixtures.py): whole KSampler runs (cfg 3, so the positive and the
/// negative share each step) on the tiny checkpoint at three reuse thresholds, with ComfyUI's
/// count of skipped steps for each (the fixture's metadata, from its log line); ours is counted
/// from the node's verbose warnings, one per skipped step.
final class EasyCacheParityTests: XCTestCase {
    /// The warnings a sampling run reports.
    final class Warnings: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func append(_ message: String) { lock.withLock { messages.append(message) } }
        var all: [String] { lock.withLock { messages } }
    }

    func testSchemaMatchesComfyUI() {
        let schema = EasyCacheNode.schema
        XCTAssertEqual(schema.classType, "EasyCache")
        XCTAssertEqual(
            schema.inputs.map(\.name), ["model", "reuse_threshold", "start_percent", "end_percent", "verbose"])
        XCTAssertEqual(schema.input(named: "reuse_threshold")?.defaultValue, .double(0.2))
        XCTAssertEqual(
            [schema.input(named: "reuse_threshold")?.min, schema.input(named: "reuse_threshold")?.max], [0, 3])
        XCTAssertEqual(schema.input(named: "start_percent")?.defaultValue, .double(0.15))
        XCTAssertEqual(schema.input(named: "end_percent")?.defaultValue, .double(0.95))
        XCTAssertEqual(schema.category, "advanced/debug/model")
    }

    func sample(_ model: DiffusionModel, _ r: SafeTensorsFile, warnings: Warnings) async throws -> Tensor {
        let context = ExecutionContext(
            nodeId: "1", classType: "KSampler", environment: ExecutionEnvironment(),
            events: { event in
                if case .warning(_, let message) = event { warnings.append(message) }
            })
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 7, "steps": 10, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": Conditioning([.init(embedding: try r.tensor("positive"))]),
                "negative": Conditioning([.init(embedding: try r.tensor("negative"))]),
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? Latent).samples
    }

    func testKSamplerWithEasyCacheMatchesComfyUI() async throws {
        let r = ControlNetNodeTests.fixture("easycache_reference")
        let plain = try await sample(ControlNetNodeTests.model, r, warnings: Warnings())
        print(
            "KSampler without EasyCache against ComfyUI: PSNR \(psnr(plain, reference: try r.tensor("ksampler.none"))) dB"
        )
        let context = ExecutionContext(nodeId: "2", classType: "EasyCache", environment: ExecutionEnvironment())
        for threshold in ["0.05", "0.2", "1.0"] {
            let patched = try await EasyCacheNode().execute(
                NodeInputs([
                    "model": ControlNetNodeTests.model, "reuse_threshold": Double(threshold)!, "start_percent": 0.15,
                    "end_percent": 0.95, "verbose": true,
                ]), context: context)
            let model = try XCTUnwrap(patched.values[0] as? DiffusionModel)
            XCTAssertNil(ControlNetNodeTests.model.easyCache, "the input MODEL is not patched")
            let warnings = Warnings()
            let samples = try await sample(model, r, warnings: warnings)
            let skipped = warnings.all.filter { $0.hasPrefix("EasyCache: skipping") }.count
            let expected = try XCTUnwrap(Int(r.metadata["skipped.\(threshold)"] ?? ""))
            let figure = psnr(samples, reference: try r.tensor("ksampler.\(threshold)"))
            print(
                "KSampler with EasyCache \(threshold) against ComfyUI: PSNR \(figure) dB, skipped \(skipped) (ComfyUI \(expected))"
            )
            XCTAssertEqual(skipped, expected, "threshold \(threshold): skipped steps")
            XCTAssertGreaterThan(figure, 90, "threshold \(threshold)")
            XCTAssertLessThan(psnr(samples, reference: plain), 40, "EasyCache \(threshold) skips steps")
        }
    }
}
