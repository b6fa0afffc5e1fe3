import ArgumentParser
import Foundation
import Latentflow

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check workflows without running them; list every problem.")

    @Argument(help: "Workflow files.")
    var workflows: [String]

    @OptionGroup var folders: FolderOptions

    @Flag(help: "Print ComfyUI's error JSON ({error, node_errors}) per workflow.")
    var json = false

    func run() throws {
        let engine = try folders.engine()
        var failed = false
        var reports: [(key: String, value: JSONValue)] = []
        for path in workflows {
            do {
                let report = engine.validate(try engine.load(URL(fileURLWithPath: path)))
                if !report.isValid { failed = true }
                if json {
                    reports.append((path, report.json))
                } else if report.isValid {
                    print("\(path): ok")
                } else {
                    print("\(path): \(report.errors.count) problem(s)")
                    report.errors.forEach { print("  - \($0)") }
                }
            } catch {
                failed = true
                if json { reports.append((path, errorJSON(error))) } else { print("\(path): \(error)") }
            }
        }
        if json { print(JSONValue.object(reports).serialized(pretty: true)) }
        if failed { throw ExitCode.failure }
    }
}
