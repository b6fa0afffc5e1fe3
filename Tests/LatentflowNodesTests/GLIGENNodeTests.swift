import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// GLIGENTextBoxApply and GLIGEN through CFG against a torch transcription of ComfyUI on
/// diffusers' gated UNet (scripts/make_gligen_fixtures.py). Bound: relative error 1e-4 (float32
/// through the UNet and position net).
final class GLIGENNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let reference = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "gligen_sampling", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)
    static let checkpoint = try! StableDiffusionCheckpoint.load(
        path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path,
        roundCLIPToFloat16: false)
    static let gligen = GLIGENValue(
        try! GLIGEN.load(
            path: repository.appendingPathComponent("models/gligen/latentflow-tiny-gligen.safetensors").path))
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        let scale = b.scalars.map(abs).max() ?? 1
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
    }

    /// The fixture's positive with its first two boxes, and its negative.
    func conditionings() throws -> (positive: Conditioning, negative: Conditioning) {
        let r = Self.reference
        let rows = try r.tensor("boxes").scalars.map { Int($0) }
        let pooled = try r.tensor("pooled")
        let boxes = try (0..<2).map { i in
            GLIGENBox(
                embedding: try pooled.slice(axis: 0, start: rows[i * 5], length: 1).reshaped([32]),
                height: rows[i * 5 + 1], width: rows[i * 5 + 2], y: rows[i * 5 + 3], x: rows[i * 5 + 4])
        }
        var entry = Conditioning.Entry(embedding: try r.tensor("positive"))
        entry.gligen = GLIGENConditioning(model: Self.gligen.model, boxes: boxes)
        return (Conditioning([entry]), Conditioning([.init(embedding: try r.tensor("negative"))]))
    }

    func testBoxedPositiveThroughCFGMatchesComfyUI() throws {
        let r = Self.reference
        let (positive, negative) = try conditionings()
        let denoiser = try CFGDenoiser(
            model: DiffusionModel(Self.checkpoint), positive: positive, negative: negative, cfg: 4)
        let out = try denoiser.denoise(r.tensor("x"), sigma: try r.tensor("sigma").scalars[0])
        XCTAssertLessThan(relativeError(out, try r.tensor("denoised")), 1e-4)
    }

    /// KSampler (euler, normal, 4 steps, cfg 4, seed 42) on an empty latent with the boxed positive.
    /// Bound: latent PSNR >= 90 dB.
    func testKSamplerWithBoxesMatchesComfyUI() async throws {
        let (positive, negative) = try conditionings()
        let out = try await KSampler().execute(
            NodeInputs([
                "model": DiffusionModel(Self.checkpoint), "seed": 42, "steps": 4, "cfg": 4.0, "sampler_name": "euler",
                "scheduler": "normal", "positive": positive, "negative": negative,
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        let samples = try XCTUnwrap(out.values[0] as? Latent).samples
        let reference = try Self.reference.tensor("ksampler")
        let peak = Double((reference.scalars.max() ?? 0) - (reference.scalars.min() ?? 0))
        let mse =
            zip(samples.scalars, reference.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            / Double(reference.count)
        let psnr = 10 * log10(peak * peak / max(mse, 1e-30))
        XCTAssertGreaterThanOrEqual(psnr, 90)
        print("KSampler with GLIGEN boxes vs ComfyUI transcription: latent PSNR \(psnr) dB")
    }

    func apply(_ conditioning: Conditioning, text: String, width: Int, height: Int, x: Int, y: Int) async throws
        -> Conditioning
    {
        let clip = TextEncoder(model: try XCTUnwrap(Self.checkpoint.textModel), byteCount: 0)
        let out = try await GLIGENTextBoxApply().execute(
            NodeInputs([
                "conditioning_to": conditioning, "clip": clip, "gligen_textbox_model": Self.gligen, "text": text,
                "width": width, "height": height, "x": x, "y": y,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? Conditioning)
    }

    /// The box goes in as ComfyUI's `(cond_pooled, h // 8, w // 8, y // 8, x // 8)`, after the boxes
    /// already there, on every entry.
    func testTextBoxApplyAppendsPooledBoxesInLatentPixels() async throws {
        let base = Conditioning([
            .init(embedding: Tensor(shape: [1, 77, 32])), .init(embedding: Tensor(shape: [1, 77, 32])),
        ])
        let once = try await apply(base, text: "purple galaxy bottle", width: 192, height: 304, x: 176, y: 272)
        let twice = try await apply(once, text: "sun", width: 144, height: 148, x: 416, y: 20)
        let clip = try XCTUnwrap(Self.checkpoint.textModel)
        let encoder = WeightedPromptEncoder(model: clip, lastLayer: -2)
        for entry in twice.entries {
            let boxes = try XCTUnwrap(entry.gligen?.boxes)
            XCTAssertEqual(boxes.map { [$0.height, $0.width, $0.y, $0.x] }, [[38, 24, 34, 22], [18, 18, 2, 52]])
            XCTAssertEqual(boxes[0].embedding.scalars, try encoder.pooled("purple galaxy bottle").scalars)
            XCTAssertEqual(boxes[1].embedding.scalars, try encoder.pooled("sun").scalars)
        }
        XCTAssertNil(base.entries[0].gligen)
    }

    /// Every name in one folder (the real catalog is in the facade target).
    struct FolderCatalog: FileCatalog {
        let folder: URL
        func files(in kind: String) -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        }
        func locate(_ name: String, in kind: String) throws -> URL { folder.appendingPathComponent(name) }
        func searchPaths(for kind: String) -> [String] { [folder.path] }
    }

    func load(_ name: String, folder: String) async throws -> GLIGENValue? {
        let catalog = FolderCatalog(folder: Self.repository.appendingPathComponent("models/\(folder)"))
        let context = ExecutionContext(
            nodeId: "1", classType: "GLIGENLoader", environment: ExecutionEnvironment(files: catalog))
        return try await GLIGENLoader().execute(NodeInputs(["gligen_name": name]), context: context).values[0]
            as? GLIGENValue
    }

    func testLoaderReadsTheTinyModelAndRefusesOtherFiles() async throws {
        let loaded = try await load("latentflow-tiny-gligen.safetensors", folder: "gligen")
        XCTAssertEqual(loaded?.model.keyDim, 32)
        do {
            // A ControlNet is no GLIGEN: the loader says so instead of failing later.
            _ = try await load("latentflow-tiny-controlnet.safetensors", folder: "controlnet")
            XCTFail("a ControlNet loaded as GLIGEN")
        } catch {
            XCTAssertTrue("\(error)".contains("not a GLIGEN model"), "\(error)")
        }
    }
}
