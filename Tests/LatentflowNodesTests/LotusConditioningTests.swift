import LatentflowGraph
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// LotusConditioning against ComfyUI v0.3.64's own node (scripts/make_lotus_conditioning.py
/// recorded its tensor in float32 as the fixture, and in float16 as the node's resource after
/// checking float16 holds every value exactly): the output must equal the recording bit for bit.
final class LotusConditioningTests: XCTestCase {
    func testSchemaMatchesComfyUI() {
        let schema = LotusConditioning.schema
        XCTAssertEqual(schema.classType, "LotusConditioning")
        XCTAssertEqual(schema.category, "conditioning/lotus")
        XCTAssertTrue(schema.inputs.isEmpty)
        XCTAssertEqual(schema.outputs.map(\.name), ["conditioning"])
        XCTAssertEqual(schema.outputs.map(\.type), [.conditioning])
    }

    func testOutputIsComfyUIsTensor() async throws {
        let reference = ControlNetNodeTests.fixture("lotus_conditioning_reference")
        let expected = try reference.tensor("conditioning")
        XCTAssertEqual(expected.shape, [1, 2, 1024])
        XCTAssertEqual(reference.metadata["shape"], "1x2x1024")
        let context = ExecutionContext(nodeId: "1", classType: "LotusConditioning", environment: ExecutionEnvironment())
        let out = try await LotusConditioning().execute(NodeInputs([:]), context: context)
        let conditioning = try XCTUnwrap(out.values.first as? Conditioning)
        XCTAssertEqual(conditioning.entries.count, 1)
        let entry = try XCTUnwrap(conditioning.entries.first)
        XCTAssertEqual(entry.embedding.shape, expected.shape)
        let differing = zip(entry.embedding.scalars, expected.scalars).filter { $0 != $1 }.count
        print("LotusConditioning vs ComfyUI: \(differing) of \(expected.count) values differ")
        XCTAssertEqual(differing, 0)
        XCTAssertNil(entry.area)
        XCTAssertEqual(entry.strength, 1)
    }
}
