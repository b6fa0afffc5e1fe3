import Foundation
import LatentflowTensor
import XCTest

@testable import LatentflowIO

/// The PyTorch checkpoint reader against files torch.save wrote (scripts/make_pickle_fixtures.py),
/// compared with what torch.load itself read from them.
final class TorchPickleTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lf-pickle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
    }

    private func expected() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: Self.fixture("pickle_expected.safetensors"))
    }

    private func assertMatchesTorch(_ name: String, file line: UInt = #line) throws {
        let checkpoint = try TorchCheckpointFile(path: Self.fixture(name))
        let reference = try expected()
        let expectedKeys = reference.keys.filter { $0.hasPrefix(name + "/") }
            .map { String($0.dropFirst(name.count + 1)) }
        XCTAssertEqual(Set(checkpoint.keys), Set(expectedKeys), name, line: line)
        for key in checkpoint.keys {
            let tensor = try checkpoint.tensor(key)
            XCTAssertEqual(tensor, try reference.tensor("\(name)/\(key)"), "\(name): \(key)", line: line)
        }
    }

    func testZipAndLegacyStateDictsMatchTorch() throws {
        try assertMatchesTorch("torch_zip.pt")
        try assertMatchesTorch("torch_legacy.pt")
        let zip = try TorchCheckpointFile(path: Self.fixture("torch_zip.pt"))
        let legacy = try TorchCheckpointFile(path: Self.fixture("torch_legacy.pt"))
        XCTAssertEqual(zip.format, .zip)
        XCTAssertEqual(legacy.format, .legacy)
        XCTAssertEqual(
            zip.keys,
            [
                "f32", "transposed", "slice", "every_other", "f16", "bf16", "f64", "i64", "i32",
                "u8", "flag", "scalar", "expanded", "empty", "param",
            ])
        for file in [zip, legacy] {
            XCTAssertEqual(try file.dtype("f16"), .float16)
            XCTAssertEqual(try file.dtype("bf16"), .bfloat16)
            XCTAssertEqual(try file.dtype("f64"), .float64)
            XCTAssertEqual(try file.shape("transposed"), [4, 3])
            XCTAssertEqual(try file.shape("scalar"), [])
            XCTAssertEqual(try file.shape("empty"), [0, 3])
            // Views keep sharing one storage; their strides and offset are PyTorch's.
            let transposed = try file.info("transposed"), slice = try file.info("slice")
            XCTAssertEqual(transposed.storageKey, try file.info("f32").storageKey)
            XCTAssertEqual(slice.storageKey, transposed.storageKey)
            XCTAssertEqual(transposed.strides, [1, 4])
            XCTAssertFalse(transposed.isContiguous)
            XCTAssertEqual(slice.storageOffset, 5)
            XCTAssertEqual(try file.info("expanded").strides, [0, 1])
            XCTAssertTrue(try file.info("param").requiresGrad)
            XCTAssertEqual(try file.integers("i64"), [1, -2, 3, 1 << 40])
            XCTAssertEqual(try file.integers("u8"), [0, 255, 9])
            XCTAssertThrowsError(try file.integers("f32"))
            XCTAssertThrowsError(try file.tensor("missing")) { error in
                XCTAssertEqual(error as? TorchPickleError, .missingTensor(file: file.path, key: "missing"))
            }
        }
    }

    func testNestedStateDictIsTheFlatView() throws {
        let reference = try expected()
        for name in ["torch_nested.ckpt", "torch_nested_legacy.ckpt"] {
            let file = try TorchCheckpointFile(path: Self.fixture(name))
            XCTAssertEqual(file.keys, ["0.weight", "0.bias", "1.weight", "1.bias"])
            XCTAssertEqual(file.root["global_step"], .int(10))
            for key in file.keys {
                XCTAssertEqual(try file.tensor(key), try reference.tensor("\(name)/state_dict/\(key)"), key)
            }
        }
    }

    func testEmbeddingAndHypernetworkNestedValues() throws {
        let reference = try expected()
        let embedding = try TorchCheckpointFile(path: Self.fixture("torch_embedding.pt"))
        XCTAssertEqual(embedding.root["name"], .string("tiny-embedding"))
        XCTAssertEqual(embedding.root["step"], .int(3))
        XCTAssertEqual(embedding.root["string_to_token"]?["*"], .int(265))
        let vectors = try XCTUnwrap(embedding.root["string_to_param"]?["*"]?.tensorValue)
        XCTAssertEqual(try embedding.tensor(vectors), try reference.tensor("torch_embedding.pt/string_to_param/*"))

        let hypernetwork = try TorchCheckpointFile(path: Self.fixture("torch_hypernetwork.pt"))
        XCTAssertEqual(hypernetwork.keys, [])
        XCTAssertEqual(hypernetwork.root["layer_structure"], .list([.int(1), .int(2), .int(1)]))
        for size in [4, 6] {
            let layers = try XCTUnwrap(hypernetwork.root[.int(size)]?.elements)
            XCTAssertEqual(layers.count, 2)
            for (index, layer) in layers.enumerated() {
                for name in ["weight", "bias"] {
                    let info = try XCTUnwrap(layer[name]?.tensorValue)
                    XCTAssertEqual(
                        try hypernetwork.tensor(info),
                        try reference.tensor("torch_hypernetwork.pt/\(size)/\(index)/\(name)"))
                }
            }
        }
    }

    func testOpenModelFilePicksTheFormatByContent() throws {
        // A checkpoint named .safetensors is still read as a checkpoint, and the other way round.
        let misnamed = directory.appendingPathComponent("model.safetensors")
        try FileManager.default.copyItem(atPath: Self.fixture("torch_zip.pt"), toPath: misnamed.path)
        XCTAssertTrue(try openModelFile(path: misnamed.path) is TorchCheckpointFile)
        let legacy = directory.appendingPathComponent("legacy.safetensors")
        try FileManager.default.copyItem(atPath: Self.fixture("torch_legacy.pt"), toPath: legacy.path)
        XCTAssertEqual(try ModelFileFormat.detect(path: legacy.path), .torchLegacy)
        let safetensors = directory.appendingPathComponent("model.ckpt")
        try SafeTensorsWriter.write([.init("x", try Tensor(shape: [2], scalars: [1, 2]))], to: safetensors)
        let archive = try openModelFile(path: safetensors.path)
        XCTAssertTrue(archive is SafeTensorsFile)
        XCTAssertEqual(archive.keys, ["x"])
        XCTAssertEqual(try archive.tensor("x").scalars, [1, 2])
        XCTAssertEqual(try archive.shape("x"), [2])
        let junk = directory.appendingPathComponent("junk.ckpt")
        try Data("hello, world, not a model".utf8).write(to: junk)
        XCTAssertThrowsError(try openModelFile(path: junk.path)) { error in
            guard case .unrecognisedFormat(let file, _)? = error as? TorchPickleError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, junk.path)
        }
    }
}
