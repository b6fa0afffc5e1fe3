import ArgumentParser
import Foundation
import Latentflow
import LatentflowIO

/// Where models, inputs and outputs live (ComfyUI's layout under a base folder).
struct FolderOptions: ParsableArguments {
    @Option(name: .customLong("base-dir"), help: "Folder holding models/, input/ and output/ (default: $LATENTFLOW_BASE_DIR or the current folder).")
    var baseDirectory: String?

    @Option(name: .customLong("models-dir"), help: "Models folder (default: $LATENTFLOW_MODELS_DIR or <base>/models).")
    var modelsDirectory: String?

    @Option(name: .customLong("output-dir"), help: "Output folder (default: $LATENTFLOW_OUTPUT_DIR or <base>/output).")
    var outputDirectory: String?

    @Option(name: .customLong("extra-model-paths"), help: "A ComfyUI extra_model_paths.yaml to read (repeatable).")
    var extraModelPaths: [String] = []

    @Flag(name: .customLong("low-memory"), help: "Leave checkpoint weights in their file (float16 stays float16) and read and widen each layer as it runs: less memory, somewhat slower (also $LATENTFLOW_LOW_MEMORY=1).")
    var lowMemory = false

    func engine() throws -> Engine {
        try Engine(paths: ModelPaths.resolve(base: baseDirectory, models: modelsDirectory, output: outputDirectory,
                                             extraPaths: extraModelPaths),
                   lowMemory: lowMemory || ProcessInfo.processInfo.environment["LATENTFLOW_LOW_MEMORY"] == "1")
    }
}

/// Writes to standard error, where progress and diagnostics go; results go to standard output.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
