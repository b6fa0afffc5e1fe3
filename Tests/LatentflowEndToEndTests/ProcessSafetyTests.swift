import Foundation
import Latentflow
import XCTest

/// The built `latentflow` executable as users run it: several processes saving one prefix at
/// once, and Ctrl-C (a real SIGINT) during `run` and `batch`.
final class ProcessSafetyTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var scratch: URL!
    var output: URL { scratch.appendingPathComponent("output") }

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lf-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func executable() throws -> URL {
        let binary = Self.repository.appendingPathComponent(".build/debug/latentflow")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        return binary
    }

    /// Starts `latentflow ARGUMENTS --base-dir <repository> --output-dir <scratch>/output`;
    /// standard error is collected line by line.
    func start(_ arguments: [String]) throws -> (Process, StandardErrorLines) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments + ["--base-dir", Self.repository.path, "--output-dir", output.path]
        let lines = StandardErrorLines()
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { lines.append($0.availableData) }
        try process.run()
        return (process, lines)
    }

    func finish(_ process: Process, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return false
        }
        process.waitUntilExit()
        return true
    }

    func outputNames() -> [String] {
        let walker = FileManager.default.enumerator(atPath: output.path)
        return ((walker?.allObjects as? [String]) ?? []).filter { !$0.hasPrefix(".latentflow-batch") }.sorted()
    }

    /// Overrides that make the tiny model's LCM workflow slow: many quick steps, so a cancel lands soon.
    static let slow = ["--set", "5.width=64", "--set", "5.height=64", "--set", "6.steps=5000"]

    func testProcessesSavingOnePrefixAtOnceKeepEveryImage() throws {
        let workflow = Self.repository.appendingPathComponent("workflows/lcm-tiny.json").path
        let processes = try (0..<3).map { run in
            try start([
                "run", workflow, "--set", "5.width=64", "--set", "5.height=64", "--set", "5.batch_size=3",
                "--set", "6.seed=\(run)",
            ])
        }
        for (process, lines) in processes {
            XCTAssertTrue(finish(process, within: 300), "run did not finish")
            XCTAssertEqual(process.terminationStatus, 0, lines.text)
        }
        let images = outputNames().filter { $0.hasSuffix(".png") }
        XCTAssertEqual(images.count, 9, "\(outputNames())")
        XCTAssertEqual(outputNames().count, 9, "no temporary file is left: \(outputNames())")
    }

    func testCtrlCCancelsARun() throws {
        let workflow = Self.repository.appendingPathComponent("workflows/lcm-tiny.json").path
        let (process, lines) = try start(["run", workflow] + Self.slow)
        try interruptAfterFirstStep(process, lines)
        XCTAssertTrue(finish(process, within: 10), "still running 10 s after Ctrl-C; stderr:\n\(lines.text)")
        XCTAssertEqual(process.terminationReason, .exit, lines.text)
        XCTAssertEqual(process.terminationStatus, 130, lines.text)
        XCTAssertEqual(outputNames(), [], "no partial or temporary file")
    }

    func testCtrlCCancelsABatch() throws {
        let folder = scratch.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = Self.repository.appendingPathComponent("workflows/lcm-tiny.json")
        for name in ["a.json", "b.json", "c.json"] {
            try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
        }
        let (process, lines) = try start(["batch", folder.path, "--jobs", "2"] + Self.slow)
        try interruptAfterFirstStep(process, lines)
        XCTAssertTrue(finish(process, within: 10), "still running 10 s after Ctrl-C; stderr:\n\(lines.text)")
        XCTAssertEqual(process.terminationReason, .exit, lines.text)
        XCTAssertEqual(process.terminationStatus, 130, lines.text)
        XCTAssertEqual(outputNames(), [], "no partial or temporary file")
    }

    /// The second Ctrl-C does not wait for the current step.
    func testSecondCtrlCExitsAtOnce() throws {
        let workflow = Self.repository.appendingPathComponent("workflows/lcm-tiny.json").path
        let (process, lines) = try start(["run", workflow] + Self.slow)
        try interruptAfterFirstStep(process, lines)
        kill(process.processIdentifier, SIGINT)
        XCTAssertTrue(finish(process, within: 3), "still running 3 s after a second Ctrl-C; stderr:\n\(lines.text)")
        XCTAssertEqual(process.terminationStatus, 130, lines.text)
    }

    func interruptAfterFirstStep(_ process: Process, _ lines: StandardErrorLines) throws {
        let deadline = Date().addingTimeInterval(240)
        while !lines.text.contains("step 1/") {
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                return XCTFail("no progress line; stderr:\n\(lines.text)")
            }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGINT)
    }
}

/// Standard error of a child, gathered from the pipe's reader thread.
final class StandardErrorLines: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
