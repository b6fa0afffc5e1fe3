import Foundation
import LatentflowGraph
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 5: graph walks must not recurse per node (a long chain overflowed the
/// stack), must stay linear in nodes plus links, and graphs past the size limit are refused.
final class GraphSizeTests: XCTestCase {
    let registry = try! NodeRegistry(packs: [StubNodes.self])

    /// StubImage → `length` × StubInvertImage → StubOutput, as an API workflow.
    func chain(_ length: Int) -> Workflow {
        var nodes = [
            WorkflowNode(
                id: "0", classType: "StubImage",
                inputs: [
                    ("content", .constant(.string("BLACK"))), ("height", .constant(.int(1))),
                    ("width", .constant(.int(1))), ("batch_size", .constant(.int(1))),
                ])
        ]
        for index in 1...length {
            nodes.append(
                WorkflowNode(
                    id: String(index), classType: "StubInvertImage",
                    inputs: [("image", .link(nodeId: String(index - 1), slot: 0))]))
        }
        nodes.append(
            WorkflowNode(
                id: "out", classType: "StubOutput",
                inputs: [("images", .link(nodeId: String(length), slot: 0))]))
        return Workflow(nodes: nodes)
    }

    func seconds(_ work: () throws -> Void) rethrows -> Double {
        let start = Date()
        try work()
        return Date().timeIntervalSince(start)
    }

    func testLongChainsValidateInLinearTime() {
        let executor = Executor(registry: registry)
        var report = executor.validate(chain(1))
        let short = seconds { report = executor.validate(chain(5_000)) }
        XCTAssertEqual(report.validOutputs, ["out"])
        XCTAssertTrue(report.isValid, "\(report.errors.prefix(3))")
        let long = seconds { report = executor.validate(chain(20_000)) }
        XCTAssertEqual(report.validOutputs, ["out"])
        // Quadratic validation took about 16 times as long for 4 times the nodes.
        XCTAssertLessThan(long, 5, "20,000 nodes validate in well under 5 s")
        XCTAssertLessThan(
            long, max(short, 0.05) * 10,
            "4 × the nodes costs about 4 × the time (\(short) s → \(long) s)")
    }

    func testLongChainRuns() async throws {
        let executor = Executor(registry: registry)
        let start = Date()
        let result = try await executor.run(chain(5_001))
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        XCTAssertEqual(result.executed.count, 5_003)
        // Black inverted an odd number of times is white.
        XCTAssertEqual(result.ui.first?.ui["images"]?.arrayValue?.first?.doubleValue, 1)
        let again = try await executor.run(chain(5_001))
        XCTAssertEqual(again.executed, [], "the second run comes from the cache")
    }

    /// A UI workflow with `count` Reroutes in a row between an image and an output.
    func rerouteChain(_ count: Int) -> JSONValue {
        var nodes: [JSONValue] = [
            .object([
                ("id", .int(1)), ("type", .string("StubImage")), ("mode", .int(0)),
                ("inputs", .array([])), ("widgets_values", .array([.string("WHITE"), .int(1), .int(1), .int(1)])),
            ])
        ]
        var links: [JSONValue] = []
        for index in 0...count {
            let node = Int64(index + 2), link = Int64(index + 1)
            links.append(.array([.int(link), .int(node - 1), .int(0), .int(node), .int(0), .string("IMAGE")]))
            let isOutput = index == count
            nodes.append(
                .object([
                    ("id", .int(node)), ("type", .string(isOutput ? "StubOutput" : "Reroute")), ("mode", .int(0)),
                    (
                        "inputs",
                        .array([
                            .object([
                                ("name", .string(isOutput ? "images" : "")), ("type", .string("IMAGE")),
                                ("link", .int(link)),
                            ])
                        ])
                    ),
                ]))
        }
        return .object([("nodes", .array(nodes)), ("links", .array(links))])
    }

    func testTenThousandReroutesConvert() throws {
        let json = rerouteChain(10_000)
        var workflow = Workflow(nodes: [])
        let elapsed = try seconds { workflow = try UIWorkflowConverter(registry: registry).convert(json) }
        XCTAssertLessThan(elapsed, 5)
        XCTAssertEqual(workflow.nodes.map(\.id), ["1", "10002"])
        XCTAssertEqual(workflow["10002"]?.input("images"), .link(nodeId: "1", slot: 0))
    }
}
