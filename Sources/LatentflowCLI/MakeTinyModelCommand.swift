import ArgumentParser
import Foundation
import LatentflowModels

/// Regenerates the embedded default model (deterministic: the same bytes every time).
struct MakeTinyModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-tiny-model",
        abstract: "Write the tiny SD1.5-architecture checkpoint with seeded random weights (the embedded default).")

    @Option(help: "Checkpoint file.")
    var output = "models/checkpoints/latentflow-tiny-sd15.safetensors"

    @Option(help: "LoRA file.")
    var lora = "models/loras/latentflow-tiny-lora.safetensors"

    @Flag(help: "Write a full-size SD1.5 checkpoint with random weights instead (about 2 GB; for the ComfyUI parity test).")
    var fullSize = false

    func run() throws {
        if fullSize {
            try TinyModelFactory.write(to: URL(fileURLWithPath: output), fullSize: true)
            print("wrote \(output)")
            return
        }
        try TinyModelFactory.write(to: URL(fileURLWithPath: output))
        try TinyModelFactory.writeLoRA(to: URL(fileURLWithPath: lora))
        for path in [output, lora] {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            print("wrote \(path) (\(size / 1024) KiB)")
        }
    }
}
