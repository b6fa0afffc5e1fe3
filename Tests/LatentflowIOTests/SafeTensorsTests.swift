import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lf-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func write(_ bytes: Data, _ name: String = "file.safetensors") throws -> String {
        let url = directory.appendingPathComponent(name)
        try bytes.write(to: url)
        return url.path
    }

    /// A file with the given header JSON followed by `dataBytes` zero bytes.
    private func file(header: String, dataBytes: Int) -> Data {
        var data = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: dataBytes))
        return data
    }

    func testRoundTripInEveryFloatDType() throws {
        let tensor = try Tensor(shape: [2, 3], scalars: [0.5, -1.25, 3, 1e-3, 65504, -0])
        let url = directory.appendingPathComponent("round.safetensors")
        try SafeTensorsWriter.write(
            [
                .init("a.f32", tensor), .init("b.f16", tensor, dtype: .float16),
                .init("c.bf16", tensor, dtype: .bfloat16),
            ],
            metadata: ["format": "pt", "note": "ünïcode"], to: url)
        let file = try SafeTensorsFile(path: url.path)
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "ünïcode"])
        XCTAssertEqual(file.keys, ["a.f32", "b.f16", "c.bf16"])
        XCTAssertEqual(try file.tensor("a.f32"), tensor)
        XCTAssertEqual(try file.entry("b.f16").dtype, .float16)
        XCTAssertEqual(try file.tensor("b.f16").scalars, tensor.scalars.map { Float(Float16($0)) })
        XCTAssertEqual(try file.tensor("c.bf16").scalars, [0.5, -1.25, 3, 0.00099945068359375, 65536, 0])
    }

    /// Streaming through the descriptor (low-memory models) reads what the mapping shows, across
    /// chunk boundaries (65536 elements) and in every float dtype, from odd offsets too.
    func testStreamingReadsTheSameValuesAsTheMapping() throws {
        var state: UInt32 = 7
        let values = (0..<(3 * 65536 + 123)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state)) / 1e9
        }
        let tensor = try Tensor(shape: [values.count], scalars: values)
        let url = directory.appendingPathComponent("stream.safetensors")
        try SafeTensorsWriter.write(
            [
                .init("odd", try Tensor(shape: [3], scalars: [1, 2, 3]), dtype: .float16),
                .init("f32", tensor), .init("f16", tensor, dtype: .float16),
                .init("bf16", tensor, dtype: .bfloat16), .init("f32tail", try Tensor(shape: [2], scalars: [5, -6])),
            ],
            to: url)
        let file = try SafeTensorsFile(path: url.path)
        for entry in file.entries {
            let streamed = Tensor(shape: entry.shape) { file.stream(entry, into: $0) }
            XCTAssertEqual(streamed, file.tensor(entry), entry.key)
        }
    }

    func testReadsFilesWrittenByTheReferenceLibrary() throws {
        // ops.safetensors in the tensor tests is written by Python's safetensors; here, an
        // integer tensor laid out by hand as that library lays it out.
        var payload = Data()
        for value: Int64 in [7, -2, 1 << 40] {
            withUnsafeBytes(of: value.littleEndian) { payload.append(contentsOf: $0) }
        }
        var data = file(header: #"{"ids":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}}"#, dataBytes: 0)
        data.append(payload)
        let reader = try SafeTensorsFile(path: try write(data))
        XCTAssertEqual(try reader.integers("ids"), [7, -2, 1 << 40])
        XCTAssertEqual(try reader.tensor("ids").scalars, [7, -2, Float(1 << 40)])
    }

    /// Each hostile header is refused with an error naming the file and, where there is one,
    /// the tensor key.
    func testRejectsCorruptHeaders() throws {
        let cases: [(String, Data, String)] = [
            ("short", Data([1, 2, 3]), "too short"),
            (
                "length past end",
                {
                    var d = Data()
                    withUnsafeBytes(of: UInt64(1000).littleEndian) { d.append(contentsOf: $0) }
                    d.append(Data("{}".utf8))
                    return d
                }(), "header length 1000"
            ),
            (
                "huge length",
                {
                    var d = Data()
                    withUnsafeBytes(of: UInt64.max.littleEndian) { d.append(contentsOf: $0) }
                    return d
                }(), "header length"
            ),
            ("not json", file(header: "{nope", dataBytes: 0), "invalid safetensors header"),
            ("not an object", file(header: "[1,2]", dataBytes: 0), "invalid safetensors header"),
            (
                "unknown dtype", file(header: #"{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1),
                "'w': unknown dtype 'F8'"
            ),
            (
                "offsets past end",
                file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8),
                "'w': data_offsets [0, 16] run past"
            ),
            (
                "size disagrees",
                file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8),
                "'w': shape [3] of F32 needs 12 bytes"
            ),
            (
                "overlap",
                file(
                    header:
                        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    dataBytes: 12), "overlaps"
            ),
            (
                "reversed offsets",
                file(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, dataBytes: 8),
                "'w': data_offsets"
            ),
            (
                "negative dim", file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, dataBytes: 0),
                "'w': shape [-1]"
            ),
            (
                "overflowing shape",
                file(
                    header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#, dataBytes: 0
                ), "'w': shape"
            ),
            (
                "missing field", file(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4),
                "'w': missing field 'data_offsets'"
            ),
            (
                "string shape", file(header: #"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, dataBytes: 4),
                "'w': field 'shape'"
            ),
            (
                "fractional offset",
                file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}"#, dataBytes: 8),
                "invalid safetensors header"
            ),
            ("metadata not strings", file(header: #"{"__metadata__":{"a":1}}"#, dataBytes: 0), "__metadata__"),
        ]
        for (label, bytes, expected) in cases {
            let path = try write(bytes, "\(label).safetensors")
            XCTAssertThrowsError(try SafeTensorsFile(path: path), label) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(path), "\(label): '\(message)' does not name the file")
                XCTAssertTrue(message.contains(expected), "\(label): '\(message)' lacks '\(expected)'")
            }
        }
    }

    /// Attack report: a key written twice was accepted silently (one tensor dropped), and offsets at
    /// or past 2^63 were reported as "not valid JSON" without the tensor's name.
    func testRefusesDuplicateKeysAndOversizedIntegersNamingTheTensor() throws {
        let cases: [(String, String, Int, String)] = [
            (
                "duplicate",
                #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8, "'w': the key appears twice"
            ),
            (
                "escaped duplicate",
                #"{"wA":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"wA":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                8, "'wA': the key appears twice"
            ),
            (
                "offset 2^63", #"{"big":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775808]}}"#, 4,
                "'big': the number 9223372036854775808 does not fit"
            ),
            (
                "shape 2^64",
                #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}}"#,
                4, "'b': the number 18446744073709551616"
            ),
        ]
        for (label, header, dataBytes, expected) in cases {
            let path = try write(file(header: header, dataBytes: dataBytes), "\(label).safetensors")
            XCTAssertThrowsError(try SafeTensorsFile(path: path), label) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(label): '\(error)' lacks '\(expected)'")
            }
        }
        // Keys inside the metadata or an entry may repeat names used elsewhere.
        let fine = #"{"__metadata__":{"w":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        XCTAssertNoThrow(try SafeTensorsFile(path: write(file(header: fine, dataBytes: 4), "fine.safetensors")))
    }

    func testMissingFileAndMissingKey() throws {
        XCTAssertThrowsError(try SafeTensorsFile(path: directory.appendingPathComponent("absent.safetensors").path)) {
            error in
            XCTAssertTrue("\(error)".contains("absent.safetensors"), "\(error)")
        }
        let path = try write(file(header: "{}", dataBytes: 0))
        XCTAssertThrowsError(try SafeTensorsFile(path: path).tensor("model.x")) { error in
            XCTAssertEqual("\(error)", "\(path): no tensor named 'model.x'")
        }
    }
}
