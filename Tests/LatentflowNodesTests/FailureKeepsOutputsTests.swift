import Foundation
import LatentflowGraph
import LatentflowNodes
import LatentflowTestSupport
import XCTest

/// ComfyUI's execution scenario 4 with a real SaveImage: the file written before a node failed
/// stays written, and the executor lives on.
final class FailureKeepsOutputsTests: XCTestCase {
    var executor: Executor!
    var output: URL!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-exec-\(UUID().uuidString)")
        let registry = try NodeRegistry(packs: [BuiltinNodes.self, StubNodes.self])
        executor = Executor(registry: registry, environment: ExecutionEnvironment(outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    // 4. A runtime error stops the workflow, names the node, and keeps what was written.
    func testRuntimeErrorNamesNodeAndKeepsEarlierOutputs() async throws {
        let b = GraphBuilder()
        let image = b.add("StubImage", ["content": "WHITE", "height": 4, "width": 4, "batch_size": 1])
        b.add("SaveImage", id: "save", ["images": image.out(0), "filename_prefix": "kept"])
        let failing = b.add("TestFailingNode", id: "bad", title: "Breaks", ["image": image.out(0)])
        b.add("StubOutput", ["images": failing.out(0)])
        do {
            _ = try await executor.run(b.workflow)
            XCTFail("expected a failure")
        } catch let failure as NodeExecutionFailure {
            XCTAssertEqual(failure.location.nodeId, "bad")
            XCTAssertTrue(
                failure.description.contains("TestFailingNode") && failure.description.contains("Breaks")
                    && failure.description.contains("deliberate failure"), failure.description)
            XCTAssertEqual(failure.partial.executed.contains("save"), true)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("kept_00001_.png").path))
        // The executor lives on: a valid workflow still runs.
        let g = lazyMixGraph(mask: 1.0)
        let result = try await executor.run(g.0.workflow)
        XCTAssertEqual(stubMeans(result, g.out), [1])
    }
}
