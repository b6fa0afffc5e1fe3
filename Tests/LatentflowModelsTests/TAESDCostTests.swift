import Foundation
import LatentflowModels
import XCTest

/// The benchmark's TAESD GFLOP figures: Latentflow's multiply-add count of the 64-wide released
/// architecture against PyTorch's FLOP counter over ComfyUI's own `comfy/taesd/taesd.py` Encoder
/// and Decoder (scripts/count_bench_flops.py wrote Fixtures/taesd/flops.json), at 64, 256 and
/// 512 px. Both count 2 FLOPs per multiply-add of every convolution and nothing else.
final class TAESDCostTests: XCTestCase {
    struct Counts: Decodable {
        let decoder: [String: Int]
        let encoder: [String: Int]
    }

    func testMultiplyAddsMatchPyTorchsFLOPCounter() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "flops.json", withExtension: nil, subdirectory: "Fixtures/taesd"))
        let counts = try JSONDecoder().decode(Counts.self, from: Data(contentsOf: url))
        let taesd = TinyModelFactory.randomTAESD(width: 64)
        XCTAssertEqual(counts.decoder.count, 3)
        for (side, flops) in counts.decoder {
            let s = try XCTUnwrap(Int(side))
            XCTAssertEqual(
                2 * taesd.decoderMultiplyAdds(latentHeight: s / 8, latentWidth: s / 8), flops, "decoder \(s) px")
        }
        XCTAssertEqual(counts.encoder.count, 3)
        for (side, flops) in counts.encoder {
            let s = try XCTUnwrap(Int(side))
            XCTAssertEqual(2 * taesd.encoderMultiplyAdds(imageHeight: s, imageWidth: s)!, flops, "encoder \(s) px")
        }
    }

    /// The random stand-in has the released files' layout: every key of madebyollin's
    /// taesd_decoder / taesd_encoder (ComfyUI's Sequential indices), at width 64.
    func testRandomTAESDFilesLoadAsVAELoaderLoadsThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lf-taesd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TinyModelFactory.writeTAESD(to: folder)
        let (taesd, _, weights) = try TAESDFiles.load(
            encoderPath: folder.appendingPathComponent("taesd_encoder.safetensors").path,
            decoderPath: folder.appendingPathComponent("taesd_decoder.safetensors").path)
        XCTAssertEqual([taesd.width, taesd.latentChannels], [64, 4])
        XCTAssertEqual(weights["taesd_decoder.1.weight"]?.shape, [64, 4, 3, 3])
        XCTAssertEqual(weights["taesd_encoder.14.weight"]?.shape, [4, 64, 3, 3])
    }
}
