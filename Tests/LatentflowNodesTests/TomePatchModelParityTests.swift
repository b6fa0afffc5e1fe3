import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// TomePatchModel against ComfyUI v0.3.64's own `nodes_tomesd.py` (scripts/make_tome_fixtures.py):
/// its bipartite merge and unmerge on seeded tokens, its `torch.randint` destination draws, and the
/// patched tiny checkpoint's prediction with the draws seeded as the fixture seeds them.
final class TomePatchModelParityTests: XCTestCase {
    static let reference = ControlNetNodeTests.fixture("tome_reference")
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testSchemaMatchesComfyUI() {
        let schema = TomePatchModel.schema
        XCTAssertEqual(schema.inputs.map(\.name), ["model", "ratio"])
        XCTAssertEqual(schema.input(named: "ratio")?.defaultValue, .double(0.3))
        XCTAssertEqual([schema.input(named: "ratio")?.min, schema.input(named: "ratio")?.max], [0, 1])
        XCTAssertEqual(schema.category, "model_patches/unet")
        XCTAssertEqual(schema.outputs.map(\.name), ["MODEL"])
    }

    func testMergeAndUnmergeMatchComfyUI() throws {
        let r = Self.reference
        for (h, w, remove, seed) in [(6, 8, 14, UInt64(5)), (7, 9, 40, 6)] {
            var generator = TorchCPUGenerator(seed: seed)
            let draws = (0..<TokenMerging.cellCount(height: h, width: w)).map { _ in Int(generator.nextUInt32() % 4) }
            XCTAssertEqual(draws.map(Float.init), try r.tensor("rand.\(h)x\(w)").scalars, "torch.randint(4) draws")
            let x = try r.tensor("merge.\(h)x\(w).x")
            let merging = try XCTUnwrap(
                TokenMerging(metric: x, height: h, width: w, remove: remove, destinations: draws))
            let merged = try merging.merge(x)
            XCTAssertEqual(merged.dim(1), h * w - min(remove, h * w - draws.count))
            let out = try merging.unmerge(merged.mapScalars { sin($0) })
            let error = maxError(out, try r.tensor("merge.\(h)x\(w).out"))
            print("ToMe merge/unmerge \(h)x\(w) max abs error: \(error)")
            XCTAssertLessThan(error, 1e-5)
        }
        XCTAssertNil(
            try TokenMerging(metric: Tensor(shape: [1, 8, 2]), height: 1, width: 8, remove: 3, destinations: []))
        XCTAssertThrowsError(
            try TokenMerging(metric: Tensor(shape: [1, 7, 2]), height: 2, width: 4, remove: 3, destinations: [0, 0]))
    }

    func testPatchedUNetMatchesComfyUI() async throws {
        let r = Self.reference
        let out = try await TomePatchModel().execute(
            NodeInputs(["model": ControlNetNodeTests.model, "ratio": 0.5]), context: context)
        let patched = try XCTUnwrap(out.values[0] as? DiffusionModel)
        XCTAssertEqual(patched.patches.attn1.count, ControlNetNodeTests.model.patches.attn1.count + 1)
        let positive = try r.tensor("positive")
        for (i, sigma) in try r.tensor("sigmas").scalars.enumerated() {
            // The node's patches, with the draws seeded as the fixture seeds torch before call i.
            var model = ControlNetNodeTests.model
            let merging = TokenMergingPatch(ratio: 0.5, seed: UInt64(100 + i))
            model.patches.attn1.append(merging.attentionPatch)
            model.patches.attn1Output.append(merging.outputPatch)
            let denoised = try CFGDenoiser.denoised(model, positive, r.tensor("x.\(i)"), sigma)
            let expected = try r.tensor("tome.\(i)")
            let error = maxError(denoised, expected)
            let scale = expected.scalars.map(abs).max() ?? 1
            print("ToMe denoised at sigma \(sigma): max abs error \(error) of \(scale)")
            XCTAssertLessThan(error, 1e-4 * max(1, scale))
            XCTAssertGreaterThan(maxError(expected, try r.tensor("plain.\(i)")), 0.05, "ToMe changes the prediction")
        }
    }
}
