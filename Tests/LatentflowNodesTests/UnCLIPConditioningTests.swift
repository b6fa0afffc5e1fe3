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

/// Sampling with unCLIPConditioning on an unCLIP UNet against ComfyUI v0.3.64's SD21UNCLIP model
/// (`encode_adm` under the sampling seed) on a tiny unCLIP checkpoint
/// (scripts/make_unclip_sampling_fixtures.py): the CFG denoised prediction at two sigmas, with and
/// without the unCLIP conditioning (zero `y`). Bound: relative error 1e-4.
final class UnCLIPSamplingTests: XCTestCase {
    func testDenoisedMatchesComfyUI() throws {
        let r = ControlNetNodeTests.fixture("unclip_sampling")
        let repository = ControlNetNodeTests.repository
        let models = try StableDiffusionCheckpoint.load(
            path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path,
            roundCLIPToFloat16: false)
        let adm = try SafeTensorsFile(
            path: repository.appendingPathComponent("Tests/LatentflowModelsTests/Fixtures/unet_adm.safetensors").path)
        var weights = models.unetWeights
        let prefix = "model.diffusion_model."
        for key in adm.keys where key.hasPrefix(prefix) {
            weights[String(key.dropFirst(prefix.count))] = Parameter(try adm.tensor(key))
        }
        let store = WeightStore(weights, source: "tiny unCLIP")
        let unet = UNet(store.root, config: try UNetConfiguration.detect(store.root))
        let model = DiffusionModel(unet: unet, byteCount: 0)
        var positive = Conditioning([.init(embedding: try r.tensor("positive"))])
        let negative = Conditioning([.init(embedding: try r.tensor("negative"))])
        let plain = positive
        positive.entries[0].unclip = [
            UnCLIPNoiseAugmentation.Image(
                embeddings: try r.tensor("image_embeds"), strength: 0.9, noiseAugmentation: 0.3)
        ]
        for (name, conditioning) in [("unclip", positive), ("plain", plain)] {
            let denoiser = try CFGDenoiser(model: model, positive: conditioning, negative: negative, cfg: 2, seed: 1234)
            for (i, sigma) in try r.tensor("sigmas").scalars.enumerated() {
                let out = try denoiser.denoise(r.tensor("x.\(i)"), sigma: sigma)
                let reference = try r.tensor("\(name).\(i)")
                let scale = reference.scalars.map(abs).max() ?? 1
                let error = zip(out.scalars, reference.scalars).map { abs($0 - $1) }.max()! / scale
                print("unCLIP sampling (\(name)) at sigma \(sigma) vs ComfyUI: max relative error \(error)")
                XCTAssertLessThan(error, 1e-4, "\(name) at sigma \(sigma)")
            }
        }
    }
}
