import Foundation
import LatentflowGraph
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 11: a socket input (IMAGE, MODEL, ...) cannot take a constant; only widget
/// types (INT, FLOAT, STRING, BOOLEAN, COMBO) and `*` can.
final class SocketConstantTests: XCTestCase {
    let executor = Executor(registry: try! NodeRegistry(packs: [StubNodes.self]))

    func testConstantForASocketIsABadLinkedInput() {
        let workflow = Workflow(nodes: [
            WorkflowNode(id: "7", classType: "StubInvertImage", inputs: [("image", .constant(.int(5)))]),
            WorkflowNode(id: "8", classType: "StubOutput", inputs: [("images", .link(nodeId: "7", slot: 0))]),
        ])
        let report = executor.validate(workflow)
        XCTAssertFalse(report.isRunnable)
        XCTAssertEqual(report.errors.map(\.kind), [.badLinkedInput])
        let error = report.errors[0]
        XCTAssertEqual(error.message, "Bad linked input, must be a length-2 list of [node_id, slot_index]")
        XCTAssertEqual(error.location?.nodeId, "7")
        XCTAssertEqual(error.location?.input, "image")
        XCTAssertEqual(error.details, "image: expected a link to an IMAGE output, got the constant 5")
    }

    func testWidgetInputsStillTakeConstants() {
        let workflow = Workflow(nodes: [
            WorkflowNode(id: "1", classType: "StubFloat", inputs: [("value", .constant(.double(0.5)))]),
            WorkflowNode(id: "2", classType: "StubListOutput", inputs: [("value", .link(nodeId: "1", slot: 0))]),
        ])
        XCTAssertEqual(executor.validate(workflow).errors, [])
    }
}
