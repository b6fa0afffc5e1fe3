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

    @Option(
        name: .customLong("preview"),
        help:
            "Write a JPEG of each sampler step's preview into this folder (<node>_<step>.jpg, replaced atomically), to watch a long render in an image viewer; the method defaults to auto."
    )
    var previewDirectory: String?

    @OptionGroup var preview: PreviewOptions

    func run() async throws {
        let previewWriter = try previewDirectory.map { try PreviewWriter(folder: URL(fileURLWithPath: $0)) }
        let engine = try folders.engine(
            preview: preview.settings(defaultMethod: previewDirectory == nil ? .none : .auto))
        TemporaryFileSweep.sweep(engine.paths.outputDirectory)
        let cancellation = CancellationFlag()
        SignalHandler.onInterrupt { cancellation.cancel() }
        var failures = 0
        var results: [JSONValue] = []
        for path in workflows {
            let progress = ProgressPrinter(label: workflows.count > 1 ? "[\(path)] " : "", quiet: json)
            do {
                var loaded = try engine.load(URL(fileURLWithPath: path))
                try loaded.apply(overrides: overrides)
                let prefix =
                    workflows.count > 1
                    ? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + "_" : ""
                let result = try await engine.run(loaded, cancellation: cancellation) { event in
                    progress.handle(event)
                    previewWriter?.handle(event, prefix: prefix)
                }
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
        if cancellation.isCancelled { throw ExitCode(130) }  // as a shell reports SIGINT
        if failures > 0 { throw ExitCode.failure }
    }
}
