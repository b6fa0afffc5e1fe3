import Foundation
import XCTest

/// `latentflow-tools bench`'s TAESD, SD-Turbo, LCM-with-TAESD and batch cases run, each alone or
/// together, on the tiny models in models/ at 64 px (times are not checked: a debug build on a
/// shared machine; each timed run is also the benchmark's own smoke check of its outputs).
final class BenchCommandTests: XCTestCase {
    static let repository = ProcessSafetyTests.repository
    static func model(_ path: String) -> String { repository.appendingPathComponent("models/" + path).path }

    struct Row: Decodable {
        let name: String
        let seconds: Double
        let gflops: Double
        let note: String
    }

    struct Report: Decodable { let results: [Row] }

    /// Runs `latentflow-tools bench ARGUMENTS`: exit status, standard output and standard error.
    func run(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let binary = Self.repository.appendingPathComponent(".build/debug/latentflow-tools")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["bench"] + arguments
        let output = Pipe(), errors = Pipe()
        (process.standardOutput, process.standardError) = (output, errors)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, data, message)
    }

    /// Runs `bench --skip-kernels --repeats 1 --json ARGUMENTS`; its rows after R's.
    func bench(_ arguments: [String]) throws -> [Row] {
        let (status, data, message) = try run(
            ["--skip-kernels", "--repeats", "1", "--json", "--threads", "2"] + arguments)
        XCTAssertEqual(status, 0, message)
        let rows = try JSONDecoder().decode(Report.self, from: data).results
        XCTAssertTrue(rows.first?.name.hasPrefix("sgemm R") ?? false)
        for row in rows { XCTAssertTrue(row.seconds > 0 && row.seconds.isFinite, "\(row.name): \(row.seconds) s") }
        return Array(rows.dropFirst())
    }

    func testTAESDModelCasesRunAlone() throws {
        let rows = try bench(["--models", "--only", "TAESD", "--taesd-size", "64"])
        XCTAssertEqual(rows.map(\.name), ["TAESD decode 64x64", "TAESD encode 64x64"])
        // Dense work / time: the GFLOP count of the 64-wide TAESD at 64 px (TAESDCostTests).
        XCTAssertEqual(rows[0].gflops * rows[0].seconds, 2.209, accuracy: 0.001)
        XCTAssertEqual(rows[1].gflops * rows[1].seconds, 1.911, accuracy: 0.001)
    }

    func testWorkflowAndBatchCasesRunOnTinyModels() throws {
        let rows = try bench([
            "--workflow-checkpoint", Self.model("checkpoints/latentflow-tiny-sd15.safetensors"),
            "--turbo-checkpoint", Self.model("checkpoints/latentflow-tiny-sd21.safetensors"),
            "--taesd", Self.model("vae_approx"), "--sizes", "64", "--batch-cases", "--batch-workflows", "2",
        ])
        XCTAssertEqual(
            rows.map(\.name),
            [
                "LCM 4 steps 64px, seed 1", "LCM 4 steps 64px, seed 2, same process",
                "LCM 4 steps 64px, TAESD decode, seed 1", "LCM 4 steps 64px, TAESD decode, seed 2, same process",
                "SD-Turbo 1 step 64px, TAESD decode, seed 1",
                "SD-Turbo 1 step 64px, TAESD decode, seed 2, same process",
                "LCM 4 steps 64px, batch 1, seed 11", "LCM 4 steps 64px, batch_size 4 in one latent, per image",
                "LCM 4 steps 64px, 2 workflows through BatchRunner, per image",
                "LCM 4 steps 64px, batch 1, seed 13, after the batch",
            ])
        XCTAssertTrue(rows[7].note.hasSuffix("x batch 1 per image"), rows[7].note)
        XCTAssertTrue(rows[8].note.contains("x 2 x batch 1 (mean of "), rows[8].note)
    }

    /// The SD-Turbo case alone, with the default TAESD (random 64-wide stand-ins written for the run).
    func testSDTurboCaseRunsAloneWithTheDefaultTAESD() throws {
        let rows = try bench([
            "--turbo-checkpoint", Self.model("checkpoints/latentflow-tiny-sd21.safetensors"), "--sizes", "64",
            "--only", "SD-Turbo",
        ])
        XCTAssertEqual(
            rows.map(\.name),
            ["SD-Turbo 1 step 64px, TAESD decode, seed 1", "SD-Turbo 1 step 64px, TAESD decode, seed 2, same process"])
    }

    /// Options that name missing files, or a batch without its checkpoint, stop before any timing.
    func testBadOptionsAreRefusedNamingTheOption() throws {
        for (arguments, message) in [
            (
                ["--turbo-checkpoint", "/nonexistent.safetensors"],
                "--turbo-checkpoint: no file at /nonexistent.safetensors"
            ),
            (["--workflow-checkpoint", "/nonexistent.safetensors"], "--workflow-checkpoint: no file at"),
            (["--batch-cases"], "--batch-cases runs the LCM workflow"),
            (
                [
                    "--taesd", "/nonexistent", "--workflow-checkpoint",
                    Self.model("checkpoints/latentflow-tiny-sd15.safetensors"),
                ],
                "--taesd: no folder at /nonexistent"
            ),
        ] {
            // --skip-kernels: were a check missing, the run would fail fast on the file, not time kernels.
            let (status, _, errors) = try run(["--skip-kernels", "--sizes", "64"] + arguments)
            XCTAssertNotEqual(status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(errors.contains(message), errors)
        }
    }
}
