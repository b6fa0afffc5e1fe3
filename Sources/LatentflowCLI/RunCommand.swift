import ArgumentParser
import Foundation
import Latentflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run workflows (API or UI JSON, or PNGs carrying one) and print the files written.")

    @Argument(help: "Workflow files.")
    var workflows: [String]

    @Option(
        name: .customLong("set"),
        help: "Override a constant input: NODE.INPUT=VALUE (NODE is an id or title; VALUE is JSON or text).")
    var overrides: [String] = []

    @OptionGroup var folders: FolderOptions

    @Flag(help: "Print a JSON result instead of lines.")
    var json = false

    func run() async throws {
        let engine = try folders.engine()
        let cancellation = CancellationFlag()
        let interrupt = SignalHandler.onInterrupt { cancellation.cancel() }
        defer { _ = interrupt }
        var failures = 0
        var results: [JSONValue] = []
        for path in workflows {
            let progress = ProgressPrinter(label: workflows.count > 1 ? "[\(path)] " : "", quiet: json)
            do {
                var loaded = try engine.load(URL(fileURLWithPath: path))
                try loaded.apply(overrides: overrides)
                let result = try await engine.run(loaded, cancellation: cancellation) { progress.handle($0) }
                for error in result.validation.errors { printError("warning: \(error)") }
                let files = engine.writtenFiles(result).map(\.path)
                if json {
                    results.append(
                        .object([
                            ("workflow", .string(path)), ("status", .string("ok")),
                            ("files", .array(files.map(JSONValue.string))),
                            ("executed", .array(result.executed.map(JSONValue.string))),
                            ("cached", .array(result.cached.map(JSONValue.string))),
                        ]))
                } else {
                    files.forEach { print($0) }
                }
            } catch {
                failures += 1
                if json {
                    results.append(
                        .object([
                            ("workflow", .string(path)), ("status", .string("error")), ("error", errorJSON(error)),
                        ]))
                } else {
                    printError("\(path): \(error)")
                }
                if error is ExecutionCancelled { break }
            }
        }
        if json { print(JSONValue.array(results).serialized(pretty: true)) }
        if failures > 0 { throw ExitCode.failure }
    }
}
