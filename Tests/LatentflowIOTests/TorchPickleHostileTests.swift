import Foundation
import XCTest

@testable import LatentflowIO

/// Hostile and broken checkpoints: each must end in a `TorchPickleError` naming the file and
/// what is wrong, never in a crash, an executed global or a huge allocation.
final class TorchPickleHostileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lf-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ data: Data, _ name: String = "hostile.pt") throws -> String {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    /// Opens the bytes as a checkpoint and returns the error it must throw.
    private func refusal(_ data: Data, line: UInt = #line) throws -> (TorchPickleError, String) {
        let path = try write(data)
        do {
            _ = try TorchCheckpointFile(path: path)
        } catch let error as TorchPickleError {
            XCTAssertTrue(error.description.hasPrefix(path), "\(error) does not name the file", line: line)
            return (error, path)
        }
        XCTFail("the checkpoint was accepted", line: line)
        throw XCTSkip("accepted")
    }

    private func refusal(pickle: [UInt8], storages: [String: [UInt8]] = [:], line: UInt = #line) throws
        -> (TorchPickleError, String)
    {
        try refusal(TestZip.torch(pickle: pickle, storages: storages), line: line)
    }

    func testTheOsSystemFixtureIsRefusedNamingTheGlobal() throws {
        let path = TorchPickleTests.fixture("torch_hostile_os_system.pt")
        XCTAssertThrowsError(try TorchCheckpointFile(path: path)) { error in
            // Python pickles os.system under its real module, posix, on Linux.
            XCTAssertEqual(error as? TorchPickleError, .disallowedGlobal(file: path, global: "posix.system"))
            XCTAssertTrue("\(error)".contains("'posix.system'"))
        }
    }

    func testUnknownGlobalsAreRefusedByName() throws {
        for (module, name) in [
            ("builtins", "eval"), ("os", "system"), ("posix", "system"), ("torch", "load"),
            ("__builtin__", "getattr"), ("subprocess", "Popen"), ("torch", "FloatTensor"),
        ] {
            let pickle = PickleBytes.stateDict {
                $0.global(module, name)
                $0.mark()
                $0.string("x")
                $0.tuple()
                $0.reduce()
            }
            let (error, path) = try refusal(pickle: pickle)
            XCTAssertEqual(error, .disallowedGlobal(file: path, global: "\(module).\(name)"))
        }
        // STACK_GLOBAL (protocol 4) is resolved through the same allowlist.
        var pickle = PickleBytes(protocol: 4)
        pickle.op(0x8C, [2] + Array("os".utf8))
        pickle.op(0x8C, [6] + Array("system".utf8))
        pickle.op(0x93)
        pickle.stop()
        let (error, path) = try refusal(pickle: pickle.bytes)
        XCTAssertEqual(error, .disallowedGlobal(file: path, global: "os.system"))
    }

    func testReduceOfANonCallableIsRefused() throws {
        var (error, _) = try refusal(
            pickle: PickleBytes.stateDict {
                $0.string("eval")
                $0.emptyTuple()
                $0.reduce()
            })
        guard case .disallowedCall(_, _, "str") = error else { return XCTFail("\(error)") }
        (error, _) = try refusal(
            pickle: PickleBytes.stateDict {
                $0.global("torch", "FloatStorage")
                $0.emptyTuple()
                $0.reduce()
            })
        guard case .disallowedCall(_, _, "torch.FloatStorage") = error else { return XCTFail("\(error)") }
        (error, _) = try refusal(
            pickle: PickleBytes.stateDict {
                $0.emptyDict()
                $0.emptyTuple()
                $0.op(0x62)
            })
        guard case .malformedPickle = error else { return XCTFail("BUILD on a dict: \(error)") }
    }

    func testNestingAndExpansionBombsHitTheLimits() throws {
        // 5,000 lists nested inside each other.
        var deep = PickleBytes()
        for _ in 0..<5_000 { deep.emptyList() }
        for _ in 0..<4_999 { deep.op(0x61) }
        deep.stop()
        var (error, _) = try refusal(pickle: deep.bytes)
        guard case .limitExceeded(_, let what, 100) = error, what.contains("nesting") else {
            return XCTFail("\(error)")
        }

        // A list that contains itself.
        var cycle = PickleBytes()
        cycle.emptyList()
        cycle.op(0x71, [0])
        cycle.op(0x68, [0])
        cycle.op(0x61)
        cycle.stop()
        (error, _) = try refusal(pickle: cycle.bytes)
        guard case .limitExceeded = error else { return XCTFail("\(error)") }

        // Ten references to ten references ... : 10^12 values from 200 bytes.
        var laughs = PickleBytes()
        laughs.string("lol")
        laughs.op(0x71, [0])
        for level in 1...12 {
            laughs.emptyList()
            laughs.mark()
            for _ in 0..<10 { laughs.op(0x68, [UInt8(level - 1)]) }
            laughs.op(0x65)
            laughs.op(0x71, [UInt8(level)])
        }
        laughs.stop()
        (error, _) = try refusal(pickle: laughs.bytes)
        guard case .limitExceeded(_, let values, _) = error, values.contains("values") else {
            return XCTFail("\(error)")
        }

        // Half a million nested tuples: refused, and released without as many nested calls.
        var tuples = PickleBytes()
        tuples.op(0x4E)
        for _ in 0..<500_000 { tuples.op(0x85) }
        tuples.stop()
        (error, _) = try refusal(pickle: tuples.bytes)
        guard case .limitExceeded = error else { return XCTFail("\(error)") }

        // MARK after MARK.
        var marks = PickleBytes()
        for _ in 0..<100_000 { marks.mark() }
        (error, _) = try refusal(pickle: marks.bytes)
        guard case .limitExceeded(_, let nested, 1_000) = error, nested.contains("MARK") else {
            return XCTFail("\(error)")
        }
    }

    func testBrokenPicklesAreRefusedWithTheirOffset() throws {
        var hugeString = PickleBytes()
        hugeString.op(0x58, le(UInt32(0xFFFF_FFF0)) + Array("short".utf8))
        var (error, _) = try refusal(pickle: hugeString.bytes)
        guard case .truncatedPickle(_, _, "BINUNICODE") = error else { return XCTFail("\(error)") }

        var invalid = PickleBytes()
        invalid.emptyDict()
        invalid.op(0xFF)
        (error, _) = try refusal(pickle: invalid.bytes)
        guard case .invalidOpcode(_, 3, 0xFF) = error else { return XCTFail("\(error)") }

        var missingMemo = PickleBytes()
        missingMemo.op(0x68, [5])
        missingMemo.stop()
        (error, _) = try refusal(pickle: missingMemo.bytes)
        guard case .missingMemo(_, 2, 5) = error else { return XCTFail("\(error)") }

        var underflow = PickleBytes()
        underflow.op(0x86)
        underflow.stop()
        (error, _) = try refusal(pickle: underflow.bytes)
        guard case .malformedPickle(_, 2, let reason) = error, reason.contains("underflow") else {
            return XCTFail("\(error)")
        }

        var noStop = PickleBytes()
        noStop.emptyDict()
        (error, _) = try refusal(pickle: noStop.bytes)
        guard case .truncatedPickle = error else { return XCTFail("\(error)") }

        // A real data.pkl cut short at every length.
        let valid = PickleBytes.stateDict { $0.tensor(count: 4, offset: 0, size: [4], stride: [1]) }
        for length in 0..<valid.count {
            _ = try refusal(pickle: Array(valid.prefix(length)))
        }
    }

    func testPersistentIDsAndStoragesAreChecked() throws {
        let four = [UInt8](repeating: 0, count: 16)
        var (error, _) = try refusal(
            pickle: PickleBytes.stateDict {
                $0.mark()
                $0.string("module")
                $0.string("os")
                $0.tuple()
                $0.persistentID()
            })
        guard case .invalidPersistentID = error else { return XCTFail("\(error)") }

        var path: String
        let missing = PickleBytes.stateDict { $0.tensor(key: "99", count: 4, offset: 0, size: [4], stride: [1]) }
        (error, path) = try refusal(pickle: missing, storages: ["0": four])
        XCTAssertEqual(error, .missingStorage(file: path, key: "99"))

        let large = PickleBytes.stateDict { $0.tensor(count: 1_000, offset: 0, size: [4], stride: [1]) }
        (error, path) = try refusal(pickle: large, storages: ["0": four])
        XCTAssertEqual(error, .storageTooSmall(file: path, key: "0", neededBytes: 4_000, availableBytes: 16))

        (error, _) = try refusal(
            pickle: PickleBytes.stateDict { $0.storage(key: "0", count: 4, type: "EvilStorage") },
            storages: ["0": four])
        XCTAssertEqual(error, .disallowedGlobal(file: path, global: "torch.EvilStorage"))
    }

    func testTensorViewsOutsideTheirStorageAreRefused() throws {
        let four = [UInt8](repeating: 0, count: 16)
        let cases: [(offset: Int64, size: [Int64], stride: [Int64], reason: String)] = [
            (10, [1], [1], "reach element 10"),
            (0, [2, 3], [3, 1], "reach element 5"),
            (0, [-1], [1], "negative dimension"),
            (0, [2], [-1], "negative stride"),
            (-1, [1], [1], "negative storage offset"),
            (0, [1 << 40, 1 << 40], [0, 0], "overflows"),
            (0, [1 << 40], [0], "claims"),
            (0, [2], [Int64.max], "reach element"),
            (0, [2, 2], [1], "differ in length"),
        ]
        for entry in cases {
            let pickle = PickleBytes.stateDict {
                $0.tensor(count: 4, offset: entry.offset, size: entry.size, stride: entry.stride)
            }
            let (error, _) = try refusal(pickle: pickle, storages: ["0": four])
            guard case .invalidTensor(_, "0", let reason) = error, reason.contains(entry.reason) else {
                XCTFail("\(entry): \(error)")
                continue
            }
        }
        // The same view inside the storage is fine, and reads what the storage holds.
        let values: [Float] = [1, 2, 3, 4]
        let pickle = PickleBytes.stateDict { $0.tensor(count: 4, offset: 1, size: [2, 2], stride: [1, 1]) }
        let storage = values.flatMap { le($0.bitPattern) }
        let file = try TorchCheckpointFile(path: try write(TestZip.torch(pickle: pickle, storages: ["0": storage])))
        XCTAssertEqual(try file.tensor("w").scalars, [2, 3, 3, 4])
    }

    func testBrokenArchivesAreRefused() throws {
        let good = try Data(contentsOf: URL(fileURLWithPath: TorchPickleTests.fixture("torch_zip.pt")))
        for length in [4, 30, 100, good.count / 2, good.count - 23, good.count - 1] {
            let (error, _) = try refusal(good.prefix(length))
            guard case .invalidZip = error else {
                XCTFail("cut at \(length): \(error)")
                continue
            }
        }
        let pickle = PickleBytes.stateDict { $0.string("x") }
        var (error, path) = try refusal(TestZip.make([("archive/data.pkl", pickle)], method: 8))
        XCTAssertEqual(error, .compressedEntry(file: path, entry: "archive/data.pkl", method: 8))
        (error, path) = try refusal(TestZip.make([("archive/other.pkl", pickle)]))
        XCTAssertEqual(error, .missingRecord(file: path, name: "<prefix>/data.pkl"))
        (error, path) = try refusal(TestZip.torch(pickle: pickle, byteOrder: "big"))
        XCTAssertEqual(error, .unsupportedByteOrder(file: path, byteOrder: "big"))

        let legacy = try Data(contentsOf: URL(fileURLWithPath: TorchPickleTests.fixture("torch_legacy.pt")))
        for length in [14, 40, 200, legacy.count / 2, legacy.count - 1] {
            _ = try refusal(legacy.prefix(length))
        }
    }
}
