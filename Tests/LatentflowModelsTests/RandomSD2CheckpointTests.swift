import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowModels

/// The random SD2.x checkpoint writer behind `make-tiny-model --full-size --family sd21-base`
/// (the benchmark's SD-Turbo stand-in), run here on tiny shapes through the same code.
final class RandomSD2CheckpointTests: XCTestCase {
    /// OpenCLIP's layout written from HF names must read back, through the loader's own map
    /// (`OpenCLIPTextKeyMap.target`, which splits `attn.in_proj_*` as ComfyUI's
    /// `transformers_convert` does), to the very same tensors under the same names.
    func testOpenCLIPLayoutInvertsTheLoadersKeyMap() throws {
        var config = CLIPTextConfiguration()
        (config.width, config.layers, config.heads, config.mlpWidth, config.vocabularySize) = (8, 2, 1, 16, 10)
        let store = RandomWeights(seed: 3).store(source: "test")
        _ = CLIPTextModel(store.root, config: config)
        let hf = store.parameters.mapValues { $0.tensor() }
        var back: [String: Tensor] = [:]
        for (key, tensor) in try OpenCLIPTextKeyMap.openCLIPLayout(hf) {
            switch OpenCLIPTextKeyMap.target(key) {
            case .renamed(let name)?: back[name] = tensor
            case .split(let names)?:
                for (name, part) in zip(names, try tensor.chunked(names.count, axis: 0)) { back[name] = part }
            default: XCTFail("\(key) is not an OpenCLIP text-tower key")
            }
        }
        XCTAssertEqual(Set(back.keys), Set(hf.keys))
        for (name, tensor) in hf {
            XCTAssertEqual(back[name]?.shape, tensor.shape, name)
            XCTAssertEqual(back[name]?.scalars, tensor.scalars, name)
        }
    }

    /// A tiny file from the writer loads strictly (no missing or unexpected key) as an SD2.x
    /// checkpoint: linear projections with 64-wide heads, OpenCLIP conventions, eps prediction.
    func testWrittenCheckpointLoadsAsSD2Base() throws {
        var unet = UNetConfiguration()
        unet.modelChannels = 64
        unet.channelMultipliers = [1, 2]
        unet.resBlocksPerLevel = 1
        unet.attentionLevels = [true, false]
        unet.contextDim = 32
        unet.linearProjection = true
        (unet.heads, unet.headWidth) = (nil, 64)
        var clip = TinyModelFactory.clip
        clip.activation = .gelu
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lf-sd2-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try TinyModelFactory.writeSD2(to: file, unet: unet, vae: TinyModelFactory.vae, clip: clip)
        let models = try StableDiffusionCheckpoint.load(path: file.path)
        XCTAssertEqual(models.unet.config, unet)
        XCTAssertEqual(models.prediction, .epsilon)
        let text = try XCTUnwrap(models.textModel)
        XCTAssertEqual(text.config.activation, .gelu)
        XCTAssertEqual(text.config.defaultLastLayer, -2)
        XCTAssertEqual(text.config.padToken, 0)
        XCTAssertEqual(try text.encode([[49406, 320, 49407]]).shape, [1, 3, 32])
    }
}
