import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// LazyCache against ComfyUI v0.3.64's own `nodes_easycache.py` LazyCacheNode
/// (scripts/make_lazycache_fixtures.py): whole KSampler runs on the tiny checkpoint at three
/// reuse thresholds, each of which skips steps in ComfyUI (its counts are in the fixture's metadata).
final class LazyCacheParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func testSchemaMatchesComfyUI() {
        let schema = LazyCacheNode.schema
        XCTAssertEqual(schema.classType, "LazyCache")
        XCTAssertEqual(
            schema.inputs.map(\.name), ["model", "reuse_threshold", "start_percent", "end_percent", "verbose"])
        XCTAssertEqual(schema.input(named: "reuse_threshold")?.defaultValue, .double(0.2))
        XCTAssertEqual(
            [schema.input(named: "reuse_threshold")?.min, schema.input(named: "reuse_threshold")?.max], [0, 3])
        XCTAssertEqual(schema.input(named: "start_percent")?.defaultValue, .double(0.15))
        XCTAssertEqual(schema.input(named: "end_percent")?.defaultValue, .double(0.95))
        XCTAssertEqual(schema.category, "advanced/debug/model")
    }

    func sample(_ model: DiffusionModel, _ r: SafeTensorsFile) async throws -> Tensor {
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 7, "steps": 10, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": Conditioning([.init(embedding: try r.tensor("positive"))]),
                "negative": Conditioning([.init(embedding: try r.tensor("negative"))]),
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? Latent).samples
    }

    func testKSamplerWithLazyCacheMatchesComfyUI() async throws {
        let r = ControlNetNodeTests.fixture("lazycache_reference")
        let plain = try await sample(ControlNetNodeTests.model, r)
        print(
            "KSampler without LazyCache against ComfyUI: PSNR \(psnr(plain, reference: try r.tensor("ksampler.none"))) dB"
        )
        for threshold in ["0.05", "0.2", "1.0"] {
            let patched = try await LazyCacheNode().execute(
                NodeInputs([
                    "model": ControlNetNodeTests.model, "reuse_threshold": Double(threshold)!, "start_percent": 0.15,
                    "end_percent": 0.95, "verbose": false,
                ]), context: context)
            let model = try XCTUnwrap(patched.values[0] as? DiffusionModel)
            XCTAssertTrue(ControlNetNodeTests.model.predictionWrappers.isEmpty, "the input MODEL is not patched")
            let samples = try await sample(model, r)
            let reference = try r.tensor("ksampler.\(threshold)")
            let figure = psnr(samples, reference: reference)
            print("KSampler with LazyCache \(threshold) against ComfyUI: PSNR \(figure) dB")
            XCTAssertGreaterThan(figure, 60, "threshold \(threshold)")
            XCTAssertLessThan(psnr(samples, reference: plain), 40, "LazyCache \(threshold) skips steps")
        }
    }
}
