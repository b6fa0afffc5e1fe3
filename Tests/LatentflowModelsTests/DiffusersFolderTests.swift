import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// A diffusers pipeline folder (config.json + diffusers key names) loads through the key tables
/// and computes what diffusers computed; the LCM UNet's guidance embedding included.
final class DiffusersFolderTests: XCTestCase {
    static func folder(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
    }

    func testPipelineFolderMatchesDiffusers() throws {
        let models = try DiffusersFolder.load(Self.folder("tiny_diffusers"), roundCLIPToFloat16: false)
        let r = ModelParityTests.reference
        let out = try models.unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        XCTAssertLessThan(relativeError(out, try r.tensor("unet.out")), 1e-4)
        XCTAssertLessThan(
            relativeError(try models.vae.decode(r.tensor("vae.latent")), try r.tensor("vae.decoded")), 1e-4)
        let ids = try r.integers("clip.tokens").map(Int.init)
        let text = try XCTUnwrap(models.textModel).encode([Array(ids[0..<77]), Array(ids[77..<154])])
        XCTAssertLessThan(relativeError(text, try r.tensor("clip.last")), 1e-4)
    }

    func testLCMGuidanceEmbedding() throws {
        let (unet, _) = try DiffusersFolder.loadUNet(Self.folder("tiny_lcm_unet"))
        XCTAssertEqual(unet.config.guidanceEmbeddingDim, 32)
        let r = ModelParityTests.reference
        let reference = try SafeTensorsFile(path: ModelParityTests.fixture("tiny_lcm_reference")).tensor("out")
        let out = try unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"), guidance: 7.5)
        let error = relativeError(out, reference)
        XCTAssertLessThan(error, 1e-4, "LCM UNet with guidance embedding: relative error \(error)")
        // A different guidance value changes the output: the embedding is really used.
        let other = try unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"), guidance: 1)
        XCTAssertGreaterThan(relativeError(other, reference), 1e-3)
    }
}

extension DiffusersFolderTests {
    /// SD2.x-style blocks (linear proj_in/out, 64-wide heads; scripts/make_sd2_fixtures.py) and a 9-channel
    /// inpainting input, detected from the weights alone.
    func testSD2StyleInpaintingUNet() throws {
        let (unet, _) = try DiffusersFolder.loadUNet(Self.folder("tiny_sd2_inpaint_unet"))
        XCTAssertEqual(unet.config.inChannels, 9)
        XCTAssertTrue(unet.config.linearProjection)
        XCTAssertEqual(unet.config.contextDim, 128)
        XCTAssertEqual(unet.config.attentionLevels, [false, true])
        XCTAssertEqual(unet.config.headWidth, 64)
        let reference = try SafeTensorsFile(path: ModelParityTests.fixture("tiny_sd2_inpaint_reference"))
        let out = try unet(
            reference.tensor("x"), timesteps: reference.tensor("t").scalars, context: reference.tensor("context"))
        let error = relativeError(out, try reference.tensor("out"))
        XCTAssertLessThan(error, 1e-4, "SD2-style inpainting UNet: relative error \(error)")
    }

    func testVAEKeyTableAgreesWithTheSingleFileLayout() throws {
        let file = try SafeTensorsFile(
            path: Self.folder("tiny_diffusers").appendingPathComponent("vae/diffusion_pytorch_model.safetensors").path)
        var raw: [String: Tensor] = [:]
        for key in file.keys { raw[key] = try file.tensor(key) }
        let converted = try DiffusersVAEKeyMap.toLDM(raw, file: "vae")
        let single = try SafeTensorsFile(path: ModelParityTests.fixture("tiny_ldm"))
        let expected = single.keys.filter { $0.hasPrefix("first_stage_model.") }.map {
            String($0.dropFirst("first_stage_model.".count))
        }
        XCTAssertEqual(Set(converted.keys), Set(expected))
        for key in expected {
            guard let tensor = converted[key] else { continue }
            XCTAssertEqual(tensor.scalars, try single.tensor("first_stage_model." + key).scalars, key)
        }
    }
}
