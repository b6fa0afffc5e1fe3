import LatentflowGraph
import XCTest

final class JSONValueTests: XCTestCase {
    func testKeepsIntegersAndFloatsApartAndKeyOrder() throws {
        let json = try JSONValue.parse(
            #"{"b": 5, "a": 5.0, "c": [true, null, "x\u00e9\n"], "big": 18446744073709551615}"#)
        XCTAssertEqual(json.objectPairs?.map(\.key), ["b", "a", "c", "big"])
        XCTAssertEqual(json["b"], .int(5))
        XCTAssertEqual(json["a"], .double(5))
        XCTAssertEqual(json["c"], .array([.bool(true), .null, .string("xé\n")]))
        // Past Int64.max an integer stays exact (a seed of 2^64 − 1 must not round to 2^64).
        XCTAssertEqual(json["big"], .uint(18_446_744_073_709_551_615))
        XCTAssertEqual(json["big"]?.serialized(), "18446744073709551615")
        XCTAssertEqual(try JSONValue.parse("18446744073709551616"), .double(18446744073709551616))
    }

    /// The text ComfyUI writes into PNGs: Python's json.dumps defaults.
    func testSerializesLikePythonJSONDumps() throws {
        let json = JSONValue.object([
            (
                "3",
                .object([
                    ("inputs", .object([("seed", .int(42)), ("cfg", .double(1)), ("text", .string("café \"q\""))])),
                    ("class_type", .string("KSampler")),
                ])
            )
        ])
        XCTAssertEqual(
            json.serialized(),
            #"{"3": {"inputs": {"seed": 42, "cfg": 1.0, "text": "caf\u00e9 \"q\""}, "class_type": "KSampler"}}"#)
        XCTAssertEqual(JSONValue.double(1e-05).serialized(), "1e-05")
        XCTAssertEqual(JSONValue.double(0.1).serialized(), "0.1")
        XCTAssertEqual(JSONValue.string("😀").serialized(), #""\ud83d\ude00""#)
    }

    func testMalformedJSONGivesLineAndColumn() {
        for (text, fragment) in [
            ("{\"a\": 1,\n  \"b\" 2}", "line 2, column 7"), ("[1, 2", "end of input"), ("{\"a\": tru}", "line 1"),
            ("", "end of input"),
            ("{\"a\": 1} x", "unexpected text"),
        ] {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(text): \(error)")
            }
        }
    }

    func testDeepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSONValue.parse(text)) { XCTAssertTrue("\($0)".contains("nesting")) }
    }
}
