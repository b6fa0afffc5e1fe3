import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import LatentflowTestSupport
import XCTest

/// Output files are never lost to a same-named neighbour, never land outside the output folder,
/// and an interrupted batch leaves nothing behind that a resume would trip over.
final class OutputSafetyTests: XCTestCase {
    var root: URL!
    var output: URL { root.appendingPathComponent("output") }
    var engine: Engine!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        engine = try Engine(paths: ModelPaths(baseDirectory: root), packs: [StubNodes.self])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func saveWorkflow(color: Int, prefix: String, size: Int = 8, batch: Int = 1) -> Workflow {
        let b = GraphBuilder()
        let image = b.add("EmptyImage", ["width": size, "height": size, "batch_size": batch, "color": color])
        b.add("SaveImage", ["images": image.out(0), "filename_prefix": prefix])
        return b.workflow
    }

    func names(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// Many saves of one prefix at once (as `batch --jobs N` does) each get their own file.
    func testConcurrentSavesOfOnePrefixAllLand() async throws {
        let runs = 12, perRun = 2, engine = engine!
        let written = try await withThrowingTaskGroup(of: [URL].self) { group in
            for run in 0..<runs {
                // A different colour per run, so no run's SaveImage is answered from the cache.
                let workflow = saveWorkflow(color: run, prefix: "same", size: 256, batch: perRun)
                group.addTask { try await engine.writtenFiles(engine.executor.run(workflow)) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(Set(written.map(\.path)).count, runs * perRun, "every save reported its own file")
        let saved = names(in: output)
        XCTAssertEqual(saved.filter { $0.hasSuffix(".png") }.count, runs * perRun, "\(saved)")
        XCTAssertFalse(saved.contains { $0.hasPrefix(".") }, "no temporary file is left: \(saved)")
    }

    func testConcurrentLatentSavesOfOnePrefixAllLand() async throws {
        let runs = 8, engine = engine!
        try await withThrowingTaskGroup(of: Void.self) { group in
            for run in 0..<runs {
                let b = GraphBuilder()
                let latent = b.add("EmptyLatentImage", ["width": 64 + 8 * run, "height": 64, "batch_size": 1])
                b.add("SaveLatent", ["samples": latent.out(0), "filename_prefix": "latents/same"])
                let workflow = b.workflow
                group.addTask { _ = try await engine.executor.run(workflow) }
            }
            try await group.waitForAll()
        }
        let saved = names(in: output.appendingPathComponent("latents"))
        XCTAssertEqual(saved.filter { $0.hasSuffix(".latent") }.count, runs, "\(saved)")
    }

    /// A symlink planted in the output folder does not carry saves outside it.
    func testSymlinkInOutputFolderCannotCarrySavesOutside() async throws {
        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: output.appendingPathComponent("linkout"),
            withDestinationURL: elsewhere)
        for prefix in ["linkout/x", "linkout/deeper/x"] {
            do {
                _ = try await engine.executor.run(saveWorkflow(color: 0, prefix: prefix))
                XCTFail("\(prefix): expected refusal")
            } catch let failure as NodeExecutionFailure {
                XCTAssertTrue(
                    failure.description.contains("outside the output folder")
                        && failure.description.contains(prefix), failure.description)
            }
        }
        XCTAssertEqual(names(in: elsewhere), [], "nothing was written (or created) through the link")
        // A link that stays inside the output folder is fine.
        try FileManager.default.createDirectory(
            at: output.appendingPathComponent("real"),
            withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: output.appendingPathComponent("inner"),
            withDestinationURL: output.appendingPathComponent("real"))
        _ = try await engine.executor.run(saveWorkflow(color: 0, prefix: "inner/y"))
        XCTAssertEqual(names(in: output.appendingPathComponent("real")), ["y_00001_.png"])
    }

    /// A workflow that wrote an image and then stopped (a failure here; a kill -9 alike) is
    /// re-rendered on resume without leaving a second copy of that image, and a temporary file a
    /// killed writer left behind is swept.
    func testResumeNeitherDuplicatesOutputsNorKeepsLeftoverTemporaries() async throws {
        let workflows = root.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
        let json = """
            {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 7}},
             "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "first"}},
             "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "blocked/second"}}}
            """
        try Data(json.utf8).write(to: workflows.appendingPathComponent("w.json"))
        // A plain file where the second save wants a folder: that save fails.
        try Data().write(to: output.appendingPathComponent("blocked"))
        var runner = BatchRunner(engine: engine)
        let failed = try await runner.run(folder: workflows)
        XCTAssertEqual(failed.map(\.status), [.failed])
        XCTAssertEqual(names(in: output).filter { $0.hasPrefix("first") }, ["first_00001_.png"])

        // A writer that died between writing and renaming; pid 2^31-1 is never a live process.
        let leftover = output.appendingPathComponent(".latentflow-tmp-2147483647-0123abcd")
        try Data("half".utf8).write(to: leftover)
        try FileManager.default.removeItem(at: output.appendingPathComponent("blocked"))
        runner = BatchRunner(engine: try Engine(paths: ModelPaths(baseDirectory: root), packs: [StubNodes.self]))
        runner.resume = true
        let resumed = try await runner.run(folder: workflows)
        XCTAssertEqual(resumed.map(\.status), [.ok], "\(resumed.map(\.error))")
        XCTAssertEqual(names(in: output).filter { $0.hasPrefix("first") }.count, 1, "\(names(in: output))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover.path), "the dead writer's leftover is swept")
        XCTAssertEqual(names(in: output.appendingPathComponent("blocked")), ["second_00001_.png"])
    }
}
