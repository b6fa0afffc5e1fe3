import Foundation
import XCTest

/// `latentflow batch` survives a workflow that crashes the process rendering it: the worker is
/// killed with SIGSEGV during the second of three workflows.
final class BatchSupervisionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The children of `pid`, from /proc.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    func testACrashedWorkerFailsItsWorkflowAndTheBatchGoesOn() throws {
        let binary = Self.repository.appendingPathComponent(".build/debug/latentflow")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lf-supervise-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let folder = scratch.appendingPathComponent("workflows")
        let output = scratch.appendingPathComponent("output")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let source = try Data(contentsOf: Self.repository.appendingPathComponent("workflows/lcm-tiny.json"))
        for (name, steps) in [("a", 2), ("b", 5000), ("c", 2)] {
            var workflow = try XCTUnwrap(JSONSerialization.jsonObject(with: source) as? [String: Any])
            var latent = try XCTUnwrap(workflow["5"] as? [String: Any])
            latent["inputs"] = ["width": 64, "height": 64, "batch_size": 1]
            workflow["5"] = latent
            var sampler = try XCTUnwrap(workflow["6"] as? [String: Any])
            var inputs = try XCTUnwrap(sampler["inputs"] as? [String: Any])
            inputs["steps"] = steps
            sampler["inputs"] = inputs
            workflow["6"] = sampler
            var save = try XCTUnwrap(workflow["8"] as? [String: Any])
            save["inputs"] = ["images": ["7", 0], "filename_prefix": name]
            workflow["8"] = save
            try JSONSerialization.data(withJSONObject: workflow).write(
                to: folder.appendingPathComponent(name + ".json"))
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "batch", folder.path, "--base-dir", Self.repository.path, "--output-dir", output.path,
        ]
        // The runtime's backtracer takes minutes over a debug binary's crash on a busy machine.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let errors = StandardErrorLines()
        let summary = StandardErrorLines()
        let errorPipe = Pipe()
        let outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        errorPipe.fileHandleForReading.readabilityHandler = { errors.append($0.availableData) }
        outputPipe.fileHandleForReading.readabilityHandler = { summary.append($0.availableData) }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let deadline = Date().addingTimeInterval(240)
        while !errors.text.contains("[b.json]   step 1/") {
            guard process.isRunning, Date() < deadline else { return XCTFail("b.json never started:\n\(errors.text)") }
            usleep(20_000)
        }
        // The process rendering b.json: a worker if there is one, else `batch` itself.
        let renderer = Self.children(of: process.processIdentifier).first ?? process.processIdentifier
        kill(renderer, SIGSEGV)

        let end = Date().addingTimeInterval(240)
        while process.isRunning && Date() < end { usleep(20_000) }
        XCTAssertFalse(process.isRunning, "batch did not finish:\n\(errors.text)")
        process.waitUntilExit()
        usleep(200_000)  // the last of the pipes
        XCTAssertEqual(process.terminationReason, .exit, errors.text)
        XCTAssertEqual(process.terminationStatus, 1, errors.text)
        let files = ((FileManager.default.enumerator(atPath: output.path)?.allObjects as? [String]) ?? [])
            .filter { !$0.hasPrefix(".latentflow-batch") }.sorted()
        XCTAssertEqual(files, ["a_00001_.png", "c_00001_.png"], "no temporary or partial file either")
        let lines = summary.text.split(separator: "\n").map(String.init)
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix("b.json") && $0.contains("failed") && $0.contains("the worker crashed (signal 11)")
            },
            summary.text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("a.json") && $0.contains("ok") }, summary.text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("c.json") && $0.contains("ok") }, summary.text)
        XCTAssertTrue(summary.text.contains("3 of 3 workflow(s) run here: 2 ok or skipped, 1 failed"), summary.text)
    }

    /// `batch`'s settings reach the worker processes that render: `--memory-budget` was once dropped on
    /// the way (workers rendered under the default budget); with 512 bytes EmptyLatentImage must fail.
    func testWorkersGetTheMemoryBudget() throws {
        let binary = Self.repository.appendingPathComponent(".build/debug/latentflow")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lf-budget-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let folder = scratch.appendingPathComponent("workflows"), output = scratch.appendingPathComponent("output")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.repository.appendingPathComponent("workflows/lcm-tiny.json"),
            to: folder.appendingPathComponent("a.json"))
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "batch", folder.path, "--base-dir", Self.repository.path, "--output-dir", output.path,
            "--memory-budget", "512",
        ]
        let outputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let summary = String(decoding: outputPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, summary)
        XCTAssertTrue(
            summary.split(separator: "\n").contains {
                $0.hasPrefix("a.json") && $0.contains("failed") && $0.contains("the memory budget is 512 bytes")
            }, summary)
    }
}
