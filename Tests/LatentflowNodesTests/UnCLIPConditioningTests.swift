import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowModels
@testable import LatentflowNodes

/// unCLIPConditioning builds the same `unclip_conditioning` list as ComfyUI v0.3.64: the `y` made
/// from two chained applies equals ComfyUI's `unclip_adm` on its own list
/// (LatentflowSamplingTests/Fixtures/unclip_adm.safetensors, scripts/make_unclip_fixtures.py).
final class UnCLIPConditioningTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "unCLIPConditioning", environment: ExecutionEnvironment())

    func apply(_ conditioning: Conditioning, _ embeds: Tensor, strength: Double, augmentation: Double) async throws
        -> Conditioning
    {
        let vision = CLIPVisionOutput(
            lastHiddenState: Tensor(shape: [1, 2, 4]), penultimateHiddenStates: Tensor(shape: [1, 2, 4]),
            imageEmbeds: embeds)
        let out = try await UnCLIPConditioning().execute(
            NodeInputs([
                "conditioning": conditioning, "clip_vision_output": CLIPVisionEncoding(output: vision),
                "strength": strength, "noise_augmentation": augmentation,
            ]), context: context)
        return out.values[0] as! Conditioning
    }

    func testChainedAppliesGiveComfyUIsAdm() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LatentflowSamplingTests/Fixtures/unclip_adm.safetensors")
        let file = try SafeTensorsFile(path: path.path)
        let base = Conditioning([
            .init(embedding: Tensor(shape: [1, 77, 8])), .init(embedding: Tensor(shape: [1, 77, 8])),
        ])
        let first = try await apply(base, try file.tensor("embeds_a"), strength: 0.8, augmentation: 0.1)
        let second = try await apply(first, try file.tensor("embeds_c"), strength: 1.3, augmentation: 0.6)
        let unchanged = try await apply(second, try file.tensor("embeds_b"), strength: 0, augmentation: 0.5)
        XCTAssertEqual(unchanged.entries.map(\.unclip.count), [2, 2], "strength 0 adds nothing")
        for entry in second.entries {
            XCTAssertEqual(entry.unclip.map(\.strength), [0.8, 1.3])
            XCTAssertEqual(entry.unclip.map(\.noiseAugmentation), [0.1, 0.6])
            let adm = try UnCLIPNoiseAugmentation.adm(entry.unclip, seed: 7)
            let expected = try file.tensor("chained")
            let error = zip(adm.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertEqual(adm.shape, expected.shape)
            XCTAssertLessThanOrEqual(error, 1e-5)
        }
    }
}
