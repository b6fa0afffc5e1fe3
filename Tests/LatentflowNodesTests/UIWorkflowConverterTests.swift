import Foundation
import Latentflow
import LatentflowGraph
import LatentflowNodes
import LatentflowTestSupport
import XCTest

final class UIWorkflowConverterTests: XCTestCase {
    let registry = try! NodeRegistry(packs: [BuiltinNodes.self, StubNodes.self])

    func fixture(_ name: String) throws -> JSONValue {
        try JSONValue.parse(
            Data(contentsOf: Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")!))
    }

    /// Both link encodings give the same API workflow, with every frontend rule applied.
    func testConvertsBothLinkFormats() throws {
        for name in ["ui_v04", "ui_v1"] {
            let workflow = try UIWorkflowConverter(registry: registry).convert(try fixture(name))
            XCTAssertEqual(
                workflow.nodes.map(\.id), ["1", "5", "6", "7", "10"],
                "\(name): virtual, muted and bypassed nodes are gone")
            // The control-after-generate value after the seed is skipped.
            XCTAssertEqual(workflow["1"]?.input("seed"), .constant(.int(123)))
            XCTAssertEqual(workflow["1"]?.input("value"), .constant(.double(0.75)))
            // The PrimitiveNode's value replaces the linked widget.
            XCTAssertEqual(workflow["5"]?.input("value"), .constant(.double(0.5)))
            XCTAssertEqual(workflow["5"]?.input("height"), .constant(.int(8)))
            XCTAssertEqual(workflow["5"]?.title, "Grey")
            // Through a Reroute and a bypassed node straight to the source.
            XCTAssertEqual(workflow["6"]?.input("images"), .link(nodeId: "1", slot: 0))
            XCTAssertEqual(workflow["7"]?.input("images"), .link(nodeId: "5", slot: 0))
            // A muted source drops the link, so validation reports the missing input.
            XCTAssertNil(workflow["10"]?.input("images"))
        }
    }

    /// `--set` overrides reach the UI graph outputs embed as `workflow` (issue 19, item 9): the widget
    /// values change in place (the control value after the seed stays), the edited graph converts to
    /// the workflow that ran, and an override of a socket or an unknown node leaves the graph alone.
    func testOverridesEditTheEmbeddedUIGraph() throws {
        for name in ["ui_v04", "ui_v1"] {
            let data = try Data(
                contentsOf: Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")!)
            var loaded = try WorkflowLoader(registry: registry).load(data, source: name)
            let original = loaded.extraPNGInfo?["workflow"]
            try loaded.apply(overrides: ["1.seed=7", "1.value=0.25", "Grey.height=16"])
            let graph = try XCTUnwrap(loaded.extraPNGInfo?["workflow"])
            let nodes = graph["nodes"]?.arrayValue ?? []
            let seeded = nodes.first { $0["id"]?.intValue == 1 }
            XCTAssertEqual(seeded?["widgets_values"], .array([.int(7), .string("randomize"), .double(0.25)]), name)
            let grey = nodes.first { $0["id"]?.intValue == 5 }
            XCTAssertEqual(grey?["widgets_values"]?.arrayValue?[1], .int(16), name)
            XCTAssertEqual(try UIWorkflowConverter(registry: registry).convert(graph), loaded.workflow, name)
            XCTAssertNotEqual(graph, original, name)

            let before = loaded.extraPNGInfo
            try loaded.apply(overrides: ["6.images=[\"5\", 0]"])
            XCTAssertEqual(loaded.extraPNGInfo, before, "\(name): a socket is not a widget")
        }
    }

    func testConvertedWorkflowRuns() async throws {
        let workflow = try UIWorkflowConverter(registry: registry).convert(try fixture("ui_v04"))
        let executor = Executor(registry: registry)
        let result = try await executor.run(workflow)
        XCTAssertEqual(Set(result.validation.validOutputs), ["6", "7"])
        XCTAssertEqual(result.validation.errors.map(\.kind), [.requiredInputMissing])
        XCTAssertEqual(result.validation.errors.first?.location?.nodeId, "10")
        let means = Dictionary(
            uniqueKeysWithValues: result.ui.map { ($0.nodeId, $0.ui["images"]?.arrayValue?.first?.doubleValue ?? -1) })
        XCTAssertEqual(means["6"]!, 0.75, accuracy: 1e-6)
        XCTAssertEqual(means["7"]!, 0.5, accuracy: 1e-6)
    }

    func testMissingWidgetValuesTakeDefaults() throws {
        let json = try JSONValue.parse(
            #"{"nodes": [{"id": 1, "type": "SaveImage", "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": null}]}], "links": []}"#
        )
        let workflow = try UIWorkflowConverter(registry: registry).convert(json)
        XCTAssertEqual(workflow["1"]?.input("filename_prefix"), .constant(.string("ComfyUI")))
    }

    func testSubgraphsAreRefusedClearly() throws {
        let json = try JSONValue.parse(#"{"nodes": [], "links": [], "definitions": {"subgraphs": [{"id": "x"}]}}"#)
        XCTAssertThrowsError(try UIWorkflowConverter(registry: registry).convert(json)) { error in
            XCTAssertTrue("\(error)".contains("subgraphs"))
        }
    }
}
