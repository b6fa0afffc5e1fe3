import Foundation
import XCTest

@testable import LatentflowIO

/// Random mutations of the torch.save fixtures (seeded, so a failure reproduces): the reader
/// must either throw a `TorchPickleError` or read every tensor it reports, and never trap.
final class TorchPickleFuzzTests: XCTestCase {
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
    }

    func testMutatedCheckpointsThrowOrReadNeverCrash() throws {
        // LATENTFLOW_FUZZ_ROUNDS / LATENTFLOW_FUZZ_SEED run a longer campaign by hand.
        let environment = ProcessInfo.processInfo.environment
        let rounds = environment["LATENTFLOW_FUZZ_ROUNDS"].flatMap(Int.init) ?? 500
        var generator = Generator(state: environment["LATENTFLOW_FUZZ_SEED"].flatMap(UInt64.init) ?? 20)
        var outcomes = (accepted: 0, refused: 0)
        let deadline = Date().addingTimeInterval(rounds > 500 ? 600 : 8)
        for name in ["torch_zip.pt", "torch_legacy.pt", "torch_nested_legacy.ckpt", "torch_embedding.pt"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TorchPickleTests.fixture(name))))
            // Mutations aimed at the pickle hit far more code than ones in raw storage bytes.
            let pickle = try pickleRange(original, name: name)
            for _ in 0..<rounds where Date() < deadline {
                var bytes = original
                for _ in 0..<(1 + generator.next(4)) {
                    // Earlier mutations of this round may have shortened the bytes.
                    let position = min(
                        bytes.count - 1,
                        generator.next(4) == 0
                            ? generator.next(bytes.count)
                            : pickle.lowerBound + generator.next(pickle.count))
                    switch generator.next(6) {
                    case 0: bytes[position] = UInt8(generator.next(256))
                    case 1: bytes[position] ^= UInt8(1 << generator.next(8))
                    case 2: bytes[position] = [0x00, 0x7F, 0x80, 0xFF][generator.next(4)]
                    case 3: bytes.removeSubrange(position..<min(bytes.count, position + 1 + generator.next(8)))
                    case 4: bytes.insert(UInt8(generator.next(256)), at: position)
                    default: bytes = Array(bytes.prefix(position))
                    }
                    if bytes.isEmpty { bytes = [0] }
                }
                if try readEverything(bytes, name: name) { outcomes.accepted += 1 } else { outcomes.refused += 1 }
            }
        }
        XCTAssertGreaterThan(outcomes.refused, 100)
        XCTAssertGreaterThan(outcomes.accepted, 10)
    }

    private func pickleRange(_ bytes: [UInt8], name: String) throws -> Range<Int> {
        try bytes.withUnsafeBytes { raw in
            guard TorchCheckpointFile.isZip(raw) else { return 0..<bytes.count }
            let archive = try TorchZipArchive(bytes: raw, file: name)
            return archive.entries[archive.names.first { $0.hasSuffix("/data.pkl") }!]!
        }
    }

    /// True when the bytes were accepted (and every tensor read), false when refused.
    private func readEverything(_ bytes: [UInt8], name: String) throws -> Bool {
        try bytes.withUnsafeBytes { raw in
            let contents: TorchCheckpointContents
            do {
                contents =
                    TorchCheckpointFile.isZip(raw)
                    ? try TorchZipFormat.read(raw, file: name)
                    : try TorchLegacyFormat.read(raw, file: name)
            } catch is TorchPickleError {
                return false
            }
            for info in tensors(in: contents.root) where info.elementCount <= 1 << 20 {
                let storage = UnsafeRawBufferPointer(rebasing: raw[contents.storages[info.storageKey]!])
                var out = [Float](repeating: 0, count: info.elementCount)
                out.withUnsafeMutableBufferPointer { TorchTensorReader.read(info, storage: storage, into: $0) }
                _ = TorchTensorReader.integers(info, storage: storage)
            }
            return true
        }
    }

    private func tensors(in value: PickleValue) -> [TorchTensorInfo] {
        switch value {
        case let .tensor(info): return [info]
        case let .dict(entries): return entries.flatMap { tensors(in: $0.key) + tensors(in: $0.value) }
        default: return (value.elements ?? []).flatMap(tensors(in:))
        }
    }
}
