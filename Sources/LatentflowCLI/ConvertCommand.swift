import ArgumentParser
import Foundation
import Latentflow

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert", abstract: "Write the API-format JSON of a workflow (UI JSON, API JSON or PNG).")

    @Argument(help: "Workflow file.")
    var workflow: String

    @Option(name: .shortAndLong, help: "Output file (default: standard output).")
    var output: String?

    @OptionGroup var folders: FolderOptions

    func run() throws {
        let engine = try folders.engine()
        let text = try engine.load(URL(fileURLWithPath: workflow)).workflow.apiJSON.serialized(pretty: true) + "\n"
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            print(text, terminator: "")
        }
    }
}
