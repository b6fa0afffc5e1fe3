import Foundation
import Latentflow
import XCTest

@testable import LatentflowServer

/// ComfyUI's `main.py` `cleanup_temp`: `serve` empties its temp folder before it listens and after
/// it stops; symlinks in it are removed, never followed, so what they point at stays.
final class TempFolderCleanupTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lf-tempclean-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testServeEmptiesItsTempFolderAtStartAndExitAndNothingOutsideIt() async throws {
        let files = FileManager.default
        let temp = scratch.appendingPathComponent("temp")
        let outside = scratch.appendingPathComponent("outside")
        let kept = outside.appendingPathComponent("keep.png")
        try files.createDirectory(at: temp.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try files.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: kept)
        try Data("old".utf8).write(to: temp.appendingPathComponent("ComfyUI_temp_00001_.png"))
        try Data("old".utf8).write(to: temp.appendingPathComponent("sub/deeper.png"))
        try files.createSymbolicLink(at: temp.appendingPathComponent("folder-link"), withDestinationURL: outside)
        try files.createSymbolicLink(at: temp.appendingPathComponent("sub/file-link"), withDestinationURL: kept)

        var configuration = EngineConfiguration(baseDirectory: ServerHarness.repositoryRoot)
        configuration.outputDirectory = scratch.appendingPathComponent("output")
        configuration.tempDirectory = temp
        let server = try LatentflowServer(
            engine: try Engine(configuration: configuration),
            configuration: ServerConfiguration(port: 0, userDirectory: scratch.appendingPathComponent("user")))
        let (listening, signalListening) = AsyncStream.makeStream(of: Int.self)
        let serving = Task {
            defer { signalListening.finish() }
            try await server.run { signalListening.yield($0) }
        }
        for await _ in listening { break }
        XCTAssertEqual(try files.contentsOfDirectory(atPath: temp.path), [], "emptied before listening")
        XCTAssertEqual(try files.contentsOfDirectory(atPath: outside.path), ["keep.png"])
        XCTAssertEqual(try Data(contentsOf: kept), Data("kept".utf8))

        try Data("new".utf8).write(to: temp.appendingPathComponent("ComfyUI_temp_00002_.png"))
        await server.shutDown()
        try await serving.value
        XCTAssertEqual(try files.contentsOfDirectory(atPath: temp.path), [], "emptied at exit")
        XCTAssertEqual(try Data(contentsOf: kept), Data("kept".utf8))
    }

    /// `--temp-directory DIR` is `DIR/temp` (ComfyUI `main.py`: `os.path.join(args.temp_directory,
    /// "temp")`), so `--temp-directory /tmp` empties only `/tmp/temp`.
    func testTempDirectoryFlagNamesTheFolderAboveTemp() throws {
        var flags = EngineConfiguration.Flags()
        flags.tempDirectory = scratch.path
        let configuration = try EngineConfiguration.resolve(flags, environment: [:])
        XCTAssertEqual(configuration.tempDirectory?.path, scratch.appendingPathComponent("temp").path)
    }
}
