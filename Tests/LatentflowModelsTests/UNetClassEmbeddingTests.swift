import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// The unCLIP UNet's class embedding (`label_emb.0.0`/`label_emb.0.2`, added to the timestep
/// embedding from `y`) against ComfyUI v0.3.64's own UNetModel with `num_classes="sequential"`,
/// on the tiny checkpoint's UNet plus random label_emb weights (scripts/make_unet_adm_fixtures.py).
final class UNetClassEmbeddingTests: XCTestCase {
    func testClassEmbeddingMatchesComfyUI() throws {
        let models = try StableDiffusionCheckpoint.load(
            path: FewStepLoRATests.repository.appendingPathComponent(
                "models/checkpoints/latentflow-tiny-sd15.safetensors"
            )
            .path)
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "unet_adm", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensorsFile(path: url.path)
        var weights = models.unetWeights
        let prefix = "model.diffusion_model."
        for key in file.keys where key.hasPrefix(prefix) {
            weights[String(key.dropFirst(prefix.count))] = Parameter(try file.tensor(key))
        }
        let store = WeightStore(weights, source: "unet_adm")
        let config = try UNetConfiguration.detect(store.root)
        XCTAssertEqual(config.admInChannels, 32)
        let unet = UNet(store.root, config: config)
        try store.verify()
        let out = try unet(
            try file.tensor("x"), timesteps: try file.tensor("timesteps").scalars, context: try file.tensor("context"),
            y: try file.tensor("y"))
        let expected = try file.tensor("out")
        XCTAssertEqual(out.shape, expected.shape)
        let error = zip(out.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        print("UNet with class embedding vs ComfyUI: max abs error", error)
        XCTAssertLessThanOrEqual(error, 1e-4)
        XCTAssertThrowsError(
            try unet(
                try file.tensor("x"), timesteps: [1, 2], context: try file.tensor("context"), y: Tensor(shape: [2, 5])))
        XCTAssertNil(models.unet.config.admInChannels)
    }
}
