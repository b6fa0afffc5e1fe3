import ArgumentParser
import Foundation

/// `latentflow bench` and `latentflow make-tiny-model` live in the `latentflow-tools` executable
/// (built beside this one); these commands hand it their arguments and the process.
enum ToolsForwarder {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench", abstract: "Measure kernel and workflow speed (runs latentflow-tools bench).")
        @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
        func run() throws { try ToolsForwarder.exec("bench", arguments) }
    }

    struct MakeTinyModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-tiny-model",
            abstract: "Write the embedded tiny checkpoint (runs latentflow-tools make-tiny-model).")
        @Argument(parsing: .captureForPassthrough) var arguments: [String] = []
        func run() throws { try ToolsForwarder.exec("make-tiny-model", arguments) }
    }

    /// Replaces this process with `latentflow-tools SUBCOMMAND ARGUMENTS...`.
    static func exec(_ subcommand: String, _ arguments: [String]) throws {
        let own = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0])
        let tools = own.deletingLastPathComponent().appendingPathComponent("latentflow-tools").path
        guard FileManager.default.isExecutableFile(atPath: tools) else {
            throw ValidationError(
                "latentflow-tools was not found beside this executable (\(tools)); build it with "
                    + "`swift build --product latentflow-tools` (add -c release for benchmarks)")
        }
        let argv = [tools, subcommand] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        execv(tools, &cArguments)
        throw ValidationError("could not start \(tools): \(String(cString: strerror(errno)))")
    }
}
