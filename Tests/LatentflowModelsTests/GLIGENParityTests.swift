import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowModels

/// GLIGEN against diffusers' gated UNet (`attention_type="gated"`) on the embedded tiny UNet, with
/// boxes placed as ComfyUI's `Gligen.set_position` places them (scripts/make_gligen_fixtures.py).
/// Bound: relative error 1e-4 (float32 through the UNet, other summation orders), and latent
/// PSNR >= 90 dB.
final class GLIGENParityTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let reference = try! SafeTensorsFile(
        path: Bundle.module.url(
            forResource: "gligen_reference", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)
    static let checkpoint = try! StableDiffusionCheckpoint.load(
        path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path,
        roundCLIPToFloat16: false)
    static let gligenPath = repository.appendingPathComponent("models/gligen/latentflow-tiny-gligen.safetensors").path

    func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        let peak = Double((b.scalars.max() ?? 0) - (b.scalars.min() ?? 0))
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(b.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    /// The fixture's boxes (rows: pooled-embedding index, h, w, y, x in latent pixels).
    func boxes(_ count: Int) throws -> [GLIGENBox] {
        let r = Self.reference
        let rows = try r.tensor("boxes").scalars.map { Int($0) }
        let pooled = try r.tensor("pooled")
        return try (0..<count).map { i in
            let row = Array(rows[(i * 5)..<(i * 5 + 5)])
            return GLIGENBox(
                embedding: try pooled.slice(axis: 0, start: row[0], length: 1).reshaped([32]), height: row[1],
                width: row[2], y: row[3], x: row[4])
        }
    }

    func testLoadsTheTinyGLIGENInTheUNetsOrder() throws {
        let gligen = try GLIGEN.load(path: Self.gligenPath)
        XCTAssertEqual(gligen.fusers.count, 4)  // input_blocks.1, middle_block, output_blocks.2 and .3
        XCTAssertEqual(gligen.fusers.map { $0.linear.weight.shape[0] }, [32, 64, 32, 32])
        XCTAssertEqual(gligen.fusers.map(\.attention.heads), [8, 8, 8, 8])
        XCTAssertEqual(gligen.keyDim, 32)
        XCTAssertEqual(GLIGEN.heads(queryDim: 320, keyDim: 768), 8)  // SD1.x
        XCTAssertEqual(GLIGEN.heads(queryDim: 320, keyDim: 1024), 5)  // SD2.x: 64-wide heads
    }

    func testGroundedUNetMatchesDiffusers() throws {
        let gligen = try GLIGEN.load(path: Self.gligenPath)
        let r = Self.reference
        for (name, count) in [("square", 2), ("wide", 3)] {
            let x = try r.tensor("\(name).x")
            let grounding = try gligen.grounding(try boxes(count), height: x.dim(2), width: x.dim(3))
            let objects = relativeError(grounding.objects, try r.tensor("\(name).objects"))
            XCTAssertLessThan(objects, 1e-5, "\(name) objects")
            let context = try r.tensor("\(name).context"), t = try r.tensor("\(name).t").scalars
            let out = try Self.checkpoint.unet(x, timesteps: t, context: context, patch: grounding)
            let expected = try r.tensor("\(name).output")
            let error = relativeError(out, expected)
            XCTAssertLessThan(error, 1e-4, name)
            XCTAssertGreaterThanOrEqual(psnr(out, expected), 90, name)
            let plain = try Self.checkpoint.unet(x, timesteps: t, context: context)
            XCTAssertLessThan(relativeError(plain, try r.tensor("\(name).plain")), 1e-4, "\(name) without boxes")
            print("GLIGEN UNet (\(name)) vs diffusers: relative error \(error), PSNR \(psnr(out, expected)) dB")
        }
    }

    func testTooManyBoxesAndWrongWidthsAreClearErrors() throws {
        let gligen = try GLIGEN.load(path: Self.gligenPath)
        let box = try boxes(1)[0]
        XCTAssertThrowsError(try gligen.grounding(Array(repeating: box, count: 31), height: 8, width: 8)) {
            XCTAssertTrue("\($0)".contains("at most 30"), "\($0)")
        }
        var wide = box
        wide.embedding = Tensor(shape: [768])
        XCTAssertThrowsError(try gligen.grounding([wide], height: 8, width: 8)) {
            XCTAssertTrue("\($0)".contains("768"), "\($0)")
        }
    }

    func testFilesWithoutAPositionNetOrWithMissingKeysAreRefused() throws {
        let file = try SafeTensorsFile(path: Self.gligenPath)
        var tensors: [String: Tensor] = [:]
        for key in file.keys { tensors[key] = try file.tensor(key) }
        var noNet = tensors
        noNet = noNet.filter { !$0.key.hasPrefix("position_net.") }
        XCTAssertThrowsError(try GLIGEN(noNet, source: "a.safetensors")) {
            XCTAssertTrue("\($0)".contains("position_net.null_positive_feature"), "\($0)")
        }
        var missing = tensors
        missing["middle_block.1.transformer_blocks.0.fuser.attn.to_k.weight"] = nil
        XCTAssertThrowsError(try GLIGEN(missing, source: "b.safetensors")) {
            XCTAssertTrue("\($0)".contains("middle_block.1.transformer_blocks.0.fuser.attn.to_k.weight"), "\($0)")
        }
        var badGate = tensors
        badGate["input_blocks.1.1.transformer_blocks.0.fuser.alpha_attn"] = Tensor(shape: [2])
        XCTAssertThrowsError(try GLIGEN(badGate, source: "c.safetensors")) {
            XCTAssertTrue("\($0)".contains("alpha_attn"), "\($0)")
        }
    }

    /// The pooled output is the last layer's final-LayerNormed state at the first end token.
    func testPooledOutputIsTheFirstEndTokensFinalState() throws {
        let clip = try XCTUnwrap(Self.checkpoint.textModel)
        let tokens = [[49406, 320, 1125, 49407, 49407, 49407], [49406, 49407, 0, 0, 0, 0]].map {
            $0.map { WeightedToken(id: $0, weight: 1) }
        }
        let pooled = try clip.pooled(tokens)
        let hidden = try clip.encode(tokens, lastLayer: -1)
        XCTAssertEqual(pooled.shape, [2, clip.config.width])
        for (row, end) in [3, 1].enumerated() {
            let expected = try hidden.slice(axis: 0, start: row, length: 1).slice(axis: 1, start: end, length: 1)
            XCTAssertEqual(
                try pooled.slice(axis: 0, start: row, length: 1).scalars, expected.scalars, "sequence \(row)")
        }
    }
}
