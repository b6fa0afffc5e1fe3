import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// The few-step LoRAs' key layouts on the embedded tiny SD1.5 model: stand-ins with the real
/// names (scripts/make_fewstep_lora_fixtures.py) load with no key left over.
final class FewStepLoRATests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let models = try! StableDiffusionCheckpoint.load(
        path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path)

    func apply(_ file: String) throws -> LoRAPatcher.Result {
        let lora = try LoRAFile(path: Self.repository.appendingPathComponent("models/loras/\(file)").path)
        let keyMap = LoRAKeyMap.unet(Array(Self.models.unetWeights.keys), config: Self.models.unet.config)
        return try LoRAPatcher.apply(lora, to: Self.models.unetWeights, keyMap: keyMap, strength: 1)
    }

    /// Hyper-SD's SD1.5 LoRAs: kohya names over diffusers modules, with alpha, on every Linear and
    /// Conv2d of the UNet (time embedding, resnets, samplers, transformers, conv_in/out).
    func testHyperSDKohyaLayoutLoadsWithNoUnmatchedKey() throws {
        let result = try apply("latentflow-tiny-hyper-sd15-lora.safetensors")
        XCTAssertEqual(result.unmatched, [])
        XCTAssertEqual(result.patchedKeys, 83)
    }

    /// TCD's SD1.5 LoRA: diffusers/PEFT names under `unet.` on the transformer layers.
    func testTCDPEFTLayoutLoadsWithNoUnmatchedKey() throws {
        let result = try apply("latentflow-tiny-tcd-lora.safetensors")
        XCTAssertEqual(result.unmatched, [])
        XCTAssertEqual(result.patchedKeys, 40)
    }
}
