import Foundation
import LatentflowGraph
import LatentflowNodes
import XCTest

/// The string nodes against ComfyUI v0.3.64's own (scripts/make_string_node_fixtures.py ran them).
final class StringNodeParityTests: XCTestCase {
    static let flags: Set = ["case_sensitive", "case_insensitive", "multiline", "dotall"]

    func testStringNodesMatchComfyUI() async throws {
        let url = Bundle.module.url(forResource: "string_nodes", withExtension: "json", subdirectory: "Fixtures")!
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[String: Any]]
        let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
        XCTAssertEqual(cases.count, 35)
        for (index, spec) in cases.enumerated() {
            let name = spec["node"] as! String
            let node = BuiltinNodes.nodes.first { $0.schema.classType == name }!.init()
            var values: [String: any Sendable] = [:]
            for (key, value) in spec["inputs"] as! [String: Any] {
                switch value {
                case let text as String: values[key] = text
                case let number as NSNumber where Self.flags.contains(key): values[key] = number.boolValue
                case let number as NSNumber: values[key] = number.intValue
                default: XCTFail("case \(index): unexpected input \(key)")
                }
            }
            let output = try await node.execute(NodeInputs(values), context: context).values[0]
            switch (spec["output"], name) {
            case (let text as String, _): XCTAssertEqual(output as? String, text, "case \(index) \(name)")
            case (let number as NSNumber, "StringLength"):
                XCTAssertEqual(output as? Int, number.intValue, "case \(index) \(name)")
            case (let number as NSNumber, _): XCTAssertEqual(output as? Bool, number.boolValue, "case \(index) \(name)")
            default: XCTFail("case \(index): unexpected output")
            }
        }
    }
}
