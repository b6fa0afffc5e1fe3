import Foundation
import LatentflowGraph
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 6: NaN, infinities and integers past 64 bits must not slip through the
/// range checks (NaN compares false with everything, so `NaN < min` never fired).
final class NumberValidationTests: XCTestCase {
    let executor = Executor(registry: try! NodeRegistry(packs: [StubNodes.self]))

    /// The errors of a StubFloat (FLOAT in -1e6...1e6) or StubInt (INT in ±0xFFFFFFFF) given `value`.
    func errors(_ classType: String, _ value: JSONValue) -> [ValidationError] {
        let node = WorkflowNode(id: "1", classType: classType, inputs: [("value", .constant(value))])
        let workflow = Workflow(nodes: [node])
        return executor.validate(workflow, targets: ["1"]).errors
    }

    /// The value as it arrives from a file: through the JSON parser, which takes Python's words.
    func parsed(_ text: String) throws -> JSONValue { try JSONValue.parse("[\(text)]").arrayValue![0] }

    func testNaNIsRefusedWhereARangeApplies() throws {
        let found = errors("StubFloat", try parsed("NaN"))
        XCTAssertEqual(found.map(\.kind), [.invalidInputType])
        XCTAssertEqual(found.first?.message, "Value NaN is not a number")
        XCTAssertEqual(found.first?.location?.input, "value")
        // A numeric string is converted as Python's float() would, so "nan" arrives as NaN too.
        XCTAssertEqual(errors("StubFloat", .string("nan")).map(\.kind), [.invalidInputType])
    }

    func testInfinitiesAreRefusedByTheRange() throws {
        let low = errors("StubFloat", try parsed("-Infinity"))
        XCTAssertEqual(low.map(\.kind), [.valueSmallerThanMin])
        XCTAssertEqual(low.first?.message, "Value -Infinity smaller than min of -1000000.0")
        let high = errors("StubFloat", try parsed("Infinity"))
        XCTAssertEqual(high.map(\.kind), [.valueBiggerThanMax])
        XCTAssertEqual(high.first?.message, "Value Infinity bigger than max of 1000000.0")
        XCTAssertEqual(errors("StubFloat", .string("inf")).map(\.kind), [.valueBiggerThanMax])
        XCTAssertEqual(errors("StubFloat", .double(12.5)), [])
    }

    func testIntegersPastSixtyFourBitsAreRefusedClearly() throws {
        for text in ["9223372036854775808", "18446744073709551615", "1e30", "\"99999999999999999999\""] {
            let found = errors("StubInt", try parsed(text))
            XCTAssertEqual(found.map(\.kind), [.valueBiggerThanMax], text)
            XCTAssertTrue(found.first?.message.hasSuffix("bigger than max of 9223372036854775807") == true, "\(found)")
            XCTAssertTrue(found.first?.details.contains("64-bit") == true, "\(found)")
        }
        let low = errors("StubInt", try parsed("-9223372036854775809"))
        XCTAssertEqual(low.map(\.kind), [.valueSmallerThanMin])
        // In range for 64 bits, past the node's own range: the node's max is reported.
        XCTAssertEqual(
            errors("StubInt", .int(Int64.max)).first?.message,
            "Value 9223372036854775807 bigger than max of 4294967295")
        XCTAssertEqual(errors("StubInt", try parsed("NaN")).map(\.kind), [.invalidInputType])
        XCTAssertEqual(errors("StubInt", .int(42)), [])
    }

    /// ComfyUI's seeds go up to 2^64 − 1 (`0xffffffffffffffff` in nodes.py): a seed input takes every
    /// such value exactly, as a number or a numeric string (Python's `int()`), and passes the node the
    /// same 64 bits torch's `manual_seed` reads; one past it is refused naming ComfyUI's maximum.
    func testSeedInputsTakeValuesUpToTwoToTheSixtyFourMinusOne() async throws {
        func errors(_ classType: String, _ value: JSONValue) -> [ValidationError] {
            let node = WorkflowNode(id: "1", classType: classType, inputs: [("seed", .constant(value))])
            return executor.validate(Workflow(nodes: [node]), targets: ["1"]).errors
        }
        for text in ["18446744073709551615", "9223372036854775808", "\"18446744073709551615\"", "42"] {
            XCTAssertEqual(errors("StubSeed", try parsed(text)), [], text)
            let node = WorkflowNode(id: "1", classType: "StubSeed", inputs: [("seed", .constant(try parsed(text)))])
            let result = try await executor.run(Workflow(nodes: [node]))
            let expected = text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            XCTAssertEqual(result.ui.first?.ui["seed"], .string(expected), text)
        }
        for text in ["18446744073709551616", "\"18446744073709551616\"", "1e30"] {
            let found = errors("StubSeed", try parsed(text))
            XCTAssertEqual(found.map(\.kind), [.valueBiggerThanMax], text)
            XCTAssertTrue(found.first?.message.hasSuffix("bigger than max of 18446744073709551615") == true, "\(found)")
        }
        XCTAssertEqual(errors("StubSeed", .int(-1)).map(\.kind), [.valueSmallerThanMin])
    }
}
