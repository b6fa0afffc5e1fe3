import ArgumentParser
import Foundation
import LatentflowModels

/// Regenerates the embedded default model (deterministic: the same bytes every time).
struct MakeTinyModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-tiny-model",
        abstract: "Write the tiny SD1.5-architecture checkpoint with seeded random weights (the embedded default).")

    @Option(help: "Output file.")
    var output = "models/checkpoints/latentflow-tiny-sd15.safetensors"

    func run() throws {
        let url = URL(fileURLWithPath: output)
        try TinyModelFactory.write(to: url)
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        print("wrote \(output) (\(size / 1024) KiB)")
    }
}
