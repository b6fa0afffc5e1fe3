import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import LatentflowTestSupport
import XCTest

final class EngineTests: XCTestCase {
    var root: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        engine = try Engine(paths: ModelPaths(baseDirectory: root), packs: [StubNodes.self])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func workflowJSON(color: Int, prefix: String) -> String {
        """
        {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 4, "batch_size": 2, "color": \(color)}},
         "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "\(prefix)"}, "_meta": {"title": "Save"}}}
        """
    }

    /// A saved image carries its workflow: loading the PNG gives back the same API workflow and
    /// the UI graph, as ComfyUI's own output images do.
    func testOutputPNGIsARunnableWorkflow() async throws {
        var loaded = try engine.loader.load(
            Data(workflowJSON(color: 0xFF0000, prefix: "sub/%width%px").utf8), source: "inline")
        loaded.extraPNGInfo = .object([("workflow", .object([("nodes", .array([]))]))])
        let result = try await engine.run(loaded)
        let files = engine.writtenFiles(result)
        XCTAssertEqual(files.map(\.lastPathComponent), ["8px_00001_.png", "8px_00002_.png"])
        XCTAssertEqual(files[0].deletingLastPathComponent().lastPathComponent, "sub")
        let image = try ImageCodec.read(path: files[0].path)
        XCTAssertEqual(image.textChunks.map(\.key), ["prompt", "workflow"])
        XCTAssertEqual(try JSONValue.parse(image.text("prompt")!), loaded.workflow.apiJSON)
        guard case .uint8(let pixels) = image.samples else { return XCTFail("8-bit expected") }
        XCTAssertEqual(Array(pixels.prefix(3)), [255, 0, 0])
        let reloaded = try engine.load(files[0])
        XCTAssertEqual(reloaded.workflow, loaded.workflow)
        XCTAssertEqual(reloaded.extraPNGInfo?["workflow"], .object([("nodes", .array([]))]))
    }

    func testSaveImageTruncatesLikeComfyUI() async throws {
        // 0x80 / 255 · 255 is exact; values between levels truncate (0.999 → 254).
        let b = GraphBuilder()
        let image = b.add("StubConstantImage", ["value": 0.999, "height": 2, "width": 2, "batch_size": 1])
        b.add("SaveImage", ["images": image.out(0), "filename_prefix": "q"])
        let result = try await engine.executor.run(b.workflow)
        let raster = try ImageCodec.read(path: engine.writtenFiles(result)[0].path)
        XCTAssertEqual(raster.samples, .uint8([UInt8](repeating: 254, count: 12)))
    }

    func testSavePrefixCannotLeaveTheOutputFolder() async throws {
        let loaded = try engine.loader.load(Data(workflowJSON(color: 0, prefix: "../escape").utf8), source: "inline")
        do {
            _ = try await engine.run(loaded)
            XCTFail("expected refusal")
        } catch let failure as NodeExecutionFailure {
            XCTAssertTrue(failure.description.contains("outside the output folder"), failure.description)
        }
    }

    func testOverrides() throws {
        var loaded = try engine.loader.load(Data(workflowJSON(color: 0, prefix: "a").utf8), source: "inline")
        try loaded.apply(overrides: ["1.color=255", "Save.filename_prefix=renamed"])
        XCTAssertEqual(loaded.workflow["1"]?.input("color"), .constant(.int(255)))
        XCTAssertEqual(loaded.workflow["2"]?.input("filename_prefix"), .constant(.string("renamed")))
        XCTAssertThrowsError(try loaded.apply(overrides: ["9.x=1"]))
        XCTAssertThrowsError(try loaded.apply(overrides: ["nonsense"]))
    }

    func testMalformedFilesGiveClearErrors() throws {
        let cases: [(String, String)] = [
            ("{\"1\": {\"class_type\": ", "line 1"), ("[1, 2]", "JSON object of nodes"),
            ("{\"1\": {\"inputs\": {}}}", "node 1: missing the class_type"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try engine.loader.load(Data(text.utf8), source: "broken.json")) { error in
                XCTAssertTrue("\(error)".contains("broken.json") && "\(error)".contains(fragment), "\(error)")
            }
        }
    }

    /// One broken workflow fails alone; the others render; shards split deterministically;
    /// --resume skips what is done.
    func testBatchRendersTheRestAndResumes() async throws {
        let folder = root.appendingPathComponent("workflows")
        try Data(workflowJSON(color: 1, prefix: "a").utf8).write(to: folder.appendingPathComponent("a.json"))
        try Data("{ not json".utf8).write(to: folder.appendingPathComponent("b.json"))
        try Data(workflowJSON(color: 2, prefix: "c").utf8).write(to: folder.appendingPathComponent("c.json"))
        try Data("ignored".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        var runner = BatchRunner(engine: engine)
        let outcomes = try await runner.run(folder: folder)
        XCTAssertEqual(outcomes.map(\.name), ["a.json", "b.json", "c.json"])
        XCTAssertEqual(outcomes.map(\.status), [.ok, .failed, .ok])
        XCTAssertTrue(outcomes[1].error?.contains("b.json") == true)
        XCTAssertEqual(outcomes[0].files.count, 2)

        runner.resume = true
        let resumed = try await runner.run(folder: folder)
        XCTAssertEqual(resumed.map(\.status), [.skipped, .failed, .skipped])

        runner.shard = try BatchRunner.Shard(parsing: "1/2")
        XCTAssertEqual(try runner.workflows(in: folder).selected, ["b.json"])
        runner.shard = try BatchRunner.Shard(parsing: "0/2")
        XCTAssertEqual(try runner.workflows(in: folder).selected, ["a.json", "c.json"])
        XCTAssertThrowsError(try BatchRunner.Shard(parsing: "2/2"))
    }

    /// nodes-docs/ must be what the registry generates now.
    func testNodeDocsAreUpToDate() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("nodes-docs")
        let registry = try NodeRegistry(packs: [BuiltinNodes.self])
        var entries: [(schema: NodeSchema, pack: String?)] = []
        for classType in registry.classTypes {
            let schema = registry.schema(classType)!
            entries.append((schema, registry.pack(of: classType)))
            let page = try? String(contentsOf: docs.appendingPathComponent("\(classType).md"), encoding: .utf8)
            XCTAssertEqual(
                page, NodeDocumentation.page(for: schema, pack: registry.pack(of: classType)),
                "nodes-docs/\(classType).md is stale: run `swift run latentflow nodes docs --out nodes-docs`")
        }
        XCTAssertEqual(
            try? String(contentsOf: docs.appendingPathComponent("README.md"), encoding: .utf8),
            NodeDocumentation.index(entries))
        let pages = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0 != "README.md" }
        XCTAssertEqual(
            Set(pages), Set(registry.classTypes.map { "\($0).md" }),
            "nodes-docs has pages for nodes that no longer exist")
    }
}
