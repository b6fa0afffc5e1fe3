import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowModels
@testable import LatentflowNodes

/// StyleModelLoader's style adapter and StyleModelApply against ComfyUI v0.3.64's own
/// `load_style_model` and `StyleModelApply`, on the tiny adapter and tensors
/// `scripts/make_style_model_fixtures.py` wrote.
final class StyleModelParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "StyleModelApply", environment: ExecutionEnvironment())

    func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"))
    }

    func inputs(
        _ file: SafeTensorsFile, strength: Double, type: String, vision override: CLIPVisionOutput? = nil
    ) throws -> NodeInputs {
        let adapter = try StyleAdapter.load(path: try fixture("style_model_tiny").path)
        let states = try file.tensor("vision_states")
        let vision =
            override
            ?? CLIPVisionOutput(
                lastHiddenState: states, penultimateHiddenStates: states, imageEmbeds: Tensor(shape: [2, 4]))
        var second = Conditioning.Entry(embedding: try file.tensor("text1"))
        second.strength = 0.5
        let values: [String: any Sendable] = [
            "conditioning": Conditioning([.init(embedding: try file.tensor("text0")), second]),
            "style_model": StyleModel(adapter), "clip_vision_output": CLIPVisionEncoding(output: vision),
            "strength": strength, "strength_type": type,
        ]
        return NodeInputs(values)
    }

    func testStyleModelApplyMatchesComfyUI() async throws {
        let file = try SafeTensorsFile(path: try fixture("style_model_apply").path)
        let adapter = try StyleAdapter.load(path: try fixture("style_model_tiny").path)
        XCTAssertEqual([adapter.width, adapter.tokenCount, adapter.contextWidth], [16, 4, 24])
        var worst: Float = 0
        for (name, strength, type) in [
            ("multiply_0.7", 0.7, "multiply"), ("multiply_2.5", 2.5, "multiply"), ("attn_bias_1", 1.0, "attn_bias"),
        ] {
            let outputs = try await StyleModelApply().execute(
                try inputs(file, strength: strength, type: type), context: context
            ).values
            let result = outputs[0] as! Conditioning
            XCTAssertEqual(result.entries.count, 2)
            XCTAssertEqual(result.entries[1].strength, 0.5, "the entry's other keys are kept")
            for index in 0..<2 {
                let error = NodeCaseFixture.maxError(
                    result.entries[index].embedding, try file.tensor("\(name)_\(index)"), "\(name) \(index)")
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, 2e-5, "\(name) \(index)")
            }
        }
        print("StyleModelApply max abs error:", worst)
    }

    func testAttentionBiasAndMismatchesAreRefused() async throws {
        let file = try SafeTensorsFile(path: try fixture("style_model_apply").path)
        do {
            _ = try await StyleModelApply().execute(
                try inputs(file, strength: 0.5, type: "attn_bias"), context: context)
            XCTFail("attn_bias with strength 0.5 should be refused")
        } catch let error as NodeError {
            XCTAssertTrue(error.message.contains("attn_bias"), error.message)
        }
        let wide = CLIPVisionOutput(
            lastHiddenState: Tensor(shape: [1, 5, 32]), penultimateHiddenStates: Tensor(shape: [1, 5, 32]),
            imageEmbeds: Tensor(shape: [1, 4]))
        do {
            _ = try await StyleModelApply().execute(
                try inputs(file, strength: 1, type: "multiply", vision: wide), context: context)
            XCTFail("a vision output of the wrong width should be refused")
        } catch let error as NodeError {
            XCTAssertTrue(error.message.contains("width 16"), error.message)
        }
        XCTAssertThrowsError(try StyleAdapter(["redux_down.weight": Tensor(shape: [4, 4])], source: "redux")) {
            XCTAssertTrue("\($0)".contains("Redux"), "\($0)")
        }
    }
}
