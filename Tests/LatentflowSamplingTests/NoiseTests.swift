import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// Noise must equal PyTorch's bit for bit (scripts/make_noise_fixtures.py holds the one-line
/// Python per case).
final class NoiseTests: XCTestCase {
    func testMatchesTorchRandnBitForBit() throws {
        let url = Bundle.module.url(forResource: "noise", withExtension: "safetensors", subdirectory: "Fixtures")!
        let file = try SafeTensorsFile(path: url.path)
        let cases =
            try JSONSerialization.jsonObject(with: Data(file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
        XCTAssertEqual(cases.count, 8)
        for (name, info) in cases {
            let seed = UInt64(info["seed"] as! String)!
            let shape = info["shape"] as! [Int]
            let inds = info["batch_index"] as? [Int]
            let noise = try comfyInitialNoise(shape: shape, seed: seed, batchIndex: inds)
            let expected = try file.tensor(name)
            XCTAssertEqual(noise.shape, expected.shape, name)
            let mismatches = zip(noise.scalars, expected.scalars).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(
                mismatches, 0,
                "\(name): \(mismatches) of \(noise.count) values differ; first \(noise.scalars.prefix(3)) vs \(expected.scalars.prefix(3))"
            )
        }
    }

    func testMT19937ReferenceSequence() {
        // std::mt19937 seeded with 5489 (the C++ default) yields 3499211612 first; its
        // 10000th output is 4123659995 (C++ standard [rand.predef]).
        var generator = TorchCPUGenerator(seed: 5489)
        XCTAssertEqual(generator.nextUInt32(), 3_499_211_612)
        for _ in 0..<9998 { _ = generator.nextUInt32() }
        XCTAssertEqual(generator.nextUInt32(), 4_123_659_995)
    }
}
