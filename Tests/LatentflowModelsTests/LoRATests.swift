import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// LoRA formats against the same patches applied to the diffusers / transformers parameters
/// (scripts/make_model_fixtures.py): kohya names with alpha, LoCon on a 3x3 convolution, LoHa,
/// LoKr, text-encoder keys, and PEFT `unet.…lora_A/B` names.
final class LoRATests: XCTestCase {
    static let models = try! StableDiffusionCheckpoint.load(
        path: ModelParityTests.fixture("tiny_ldm"), roundCLIPToFloat16: false)
    static let reference = try! SafeTensorsFile(path: ModelParityTests.fixture("lora_reference"))
    static let inputs = ModelParityTests.reference

    func patchedUNet(_ file: String, strength: Double) throws -> (UNet, LoRAPatcher.Result) {
        let models = Self.models
        let lora = try LoRAFile(path: ModelParityTests.fixture(file))
        let keyMap = LoRAKeyMap.unet(Array(models.unetWeights.keys), config: models.unet.config)
        let result = try LoRAPatcher.apply(lora, to: models.unetWeights, keyMap: keyMap, strength: strength)
        return (UNet(WeightStore(result.weights, source: file).root, config: models.unet.config), result)
    }

    func testKohyaLoRAOnTheUNet() throws {
        let (unet, result) = try patchedUNet("lora_kohya", strength: 0.8)
        XCTAssertEqual(result.patchedKeys, 7)
        XCTAssertTrue(result.unmatched.contains("lora_unet_this_module_does_not_exist"), "\(result.unmatched)")
        let r = Self.inputs
        let out = try unet(r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        let error = relativeError(out, try Self.reference.tensor("unet.kohya_out"))
        XCTAssertLessThan(error, 1e-4, "kohya LoRA UNet relative error \(error)")
        // The base weights are untouched: the unpatched model still matches diffusers.
        let base = try Self.models.unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        XCTAssertLessThan(relativeError(base, try r.tensor("unet.out")), 1e-4)
    }

    /// On a low-memory (streamed) model a patched weight is kept as float16: exactly the float32
    /// patch rounded once, so a LoRA over the whole UNet does not bring back a float32 copy.
    func testLoRAOnStreamedWeightsIsKeptAsFloat16() throws {
        let streamed = try StableDiffusionCheckpoint.load(
            path: ModelParityTests.fixture("tiny_ldm"), roundCLIPToFloat16: false, residency: .streamed)
        let lora = try LoRAFile(path: ModelParityTests.fixture("lora_kohya"))
        let keyMap = LoRAKeyMap.unet(Array(streamed.unetWeights.keys), config: streamed.unet.config)
        let result = try LoRAPatcher.apply(lora, to: streamed.unetWeights, keyMap: keyMap, strength: 0.8)
        let (_, float32Result) = try patchedUNet("lora_kohya", strength: 0.8)
        XCTAssertEqual(result.patchedKeys, float32Result.patchedKeys)
        var patchedCount = 0
        for (key, parameter) in result.weights where parameter.residentBytes > 0 {
            let expected = try XCTUnwrap(float32Result.weights[key]).tensor()
            XCTAssertEqual(parameter.residentBytes, expected.count * 2, key)
            XCTAssertEqual(
                parameter.tensor(), try Tensor(shape: expected.shape, float16Bits: expected.float16Bits), key)
            patchedCount += 1
        }
        XCTAssertEqual(patchedCount, result.patchedKeys)
        // Against diffusers: float16 rounding of the patched weights (relative 2^-11 each) moves
        // the output by about 1e-3 at most.
        let unet = UNet(WeightStore(result.weights, source: "lora").root, config: streamed.unet.config)
        let r = Self.inputs
        let out = try unet(r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        XCTAssertLessThan(relativeError(out, try Self.reference.tensor("unet.kohya_out")), 2e-3)
    }

    /// On a UNet stored in bfloat16 (`--bf16-unet`) a patched weight stays bfloat16: the patch is
    /// added in float32 to the bfloat16 weight and the sum rounded once, as ComfyUI patches a
    /// bfloat16 weight (`calculate_weight` in float32, `stochastic_rounding` to the weight's dtype,
    /// which for bfloat16 is `.to(torch.bfloat16)`).
    func testLoRAOnABFloat16UNetIsKeptInBFloat16() throws {
        let stored = try StableDiffusionCheckpoint.load(
            path: ModelParityTests.fixture("tiny_ldm"), roundCLIPToFloat16: false, unetResidency: .bfloat16)
        XCTAssertEqual(stored.unetWeights.residentBytes * 2, Self.models.unetWeights.residentBytes)
        let lora = try LoRAFile(path: ModelParityTests.fixture("lora_kohya"))
        let keyMap = LoRAKeyMap.unet(Array(stored.unetWeights.keys), config: stored.unet.config)
        let result = try LoRAPatcher.apply(lora, to: stored.unetWeights, keyMap: keyMap, strength: 0.8)
        // The same patch on float32 weights holding the bfloat16 values: the float32 sums.
        let widened = stored.unetWeights.mapValues { Parameter($0.tensor()) }
        let sums = try LoRAPatcher.apply(lora, to: widened, keyMap: keyMap, strength: 0.8)
        XCTAssertEqual(result.patchedKeys, 7)
        for (key, parameter) in result.weights {
            let sum = try XCTUnwrap(sums.weights[key]).tensor()
            XCTAssertEqual(parameter.residentBytes, sum.count * 2, key)
            XCTAssertEqual(parameter.tensor(), try Tensor(shape: sum.shape, bfloat16Bits: sum.bfloat16Bits), key)
        }
        // Against diffusers' float32 patch: every weight rounded to bfloat16 (relative error up to
        // 2^-8, 8x float16's 2^-11 in the test above) moves the output by under 8x that test's 2e-3
        // (measured 7.8e-3).
        let unet = UNet(WeightStore(result.weights, source: "lora").root, config: stored.unet.config)
        let r = Self.inputs
        let out = try unet(r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        let error = relativeError(out, try Self.reference.tensor("unet.kohya_out"))
        print("bfloat16-stored UNet with a kohya LoRA: relative error \(error) against diffusers' float32")
        XCTAssertLessThan(error, 1.6e-2)
        XCTAssertGreaterThan(error, 1e-4, "the weights were not rounded?")
    }

    func testPEFTLoRA() throws {
        let (unet, result) = try patchedUNet("lora_peft", strength: 1.0)
        XCTAssertEqual(result.patchedKeys, 1)
        let r = Self.inputs
        let out = try unet(r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        XCTAssertLessThan(relativeError(out, try Self.reference.tensor("unet.peft_out")), 1e-4)
    }

    func testTextEncoderLoRAWithNegativeStrength() throws {
        let models = Self.models
        let lora = try LoRAFile(path: ModelParityTests.fixture("lora_kohya"))
        let text = try XCTUnwrap(models.textModel)
        let result = try LoRAPatcher.apply(
            lora, to: models.textWeights, keyMap: LoRAKeyMap.clip(layers: text.config.layers), strength: -0.5)
        XCTAssertEqual(result.patchedKeys, 2)
        let patched = CLIPTextModel(WeightStore(result.weights, source: "lora").root, config: text.config)
        let ids = try Self.inputs.integers("clip.tokens").map(Int.init)
        let out = try patched.encode([Array(ids[0..<77]), Array(ids[77..<154])])
        XCTAssertLessThan(relativeError(out, try Self.reference.tensor("clip.kohya_last")), 1e-4)
    }
}
