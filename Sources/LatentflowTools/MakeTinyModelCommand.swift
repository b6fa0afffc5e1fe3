import ArgumentParser
import Foundation
import Latentflow
import LatentflowModels

/// Regenerates the embedded default model (deterministic: the same bytes every time).
struct MakeTinyModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-tiny-model",
        abstract:
            "Write the tiny SD1.5-architecture checkpoints (plain and inpainting) with seeded random weights (the embedded default)."
    )

    @Option(
        help:
            "Checkpoint file (default: models/checkpoints/latentflow-tiny-sd15.safetensors; with --full-size --family sd21-base: models/checkpoints/latentflow-random-sd21-base.safetensors)."
    )
    var output: String?

    @Option(help: "The tiny inpainting checkpoint (9-channel UNet).")
    var inpaintingOutput = "models/checkpoints/latentflow-tiny-sd15-inpainting.safetensors"

    @Option(
        help:
            "LoRA file (with --full-size: default loras/latentflow-random-sd15-lora.safetensors beside the checkpoints folder)."
    )
    var lora: String?

    @Flag(
        help:
            "Write a full-size SD1.5 checkpoint with random weights and a LoRA for it instead (about 2 GB; for the ComfyUI parity test)."
    )
    var fullSize = false

    @Flag(help: "With --full-size: keep an existing checkpoint and only write its LoRA.")
    var loraOnly = false

    @Option(
        help:
            "With --full-size: sd15 (with its LoRA), or sd21-base: SD-Turbo's architecture (SD2.1-base: OpenCLIP ViT-H text tower, 1024-wide context, linear projections, eps; about 2.6 GB, no LoRA), for `bench --turbo-checkpoint`."
    )
    var family = Family.sd15

    enum Family: String, ExpressibleByArgument {
        case sd15, sd21Base = "sd21-base"
    }

    func run() throws {
        if fullSize, family == .sd21Base {
            let path = output ?? "models/checkpoints/latentflow-random-sd21-base.safetensors"
            try TinyModelFactory.writeSD2(to: URL(fileURLWithPath: path))
            print("wrote \(path)")
            return
        }
        let output = self.output ?? "models/checkpoints/latentflow-tiny-sd15.safetensors"
        if fullSize {
            let checkpoint = URL(fileURLWithPath: output)
            if !loraOnly { try TinyModelFactory.write(to: checkpoint, fullSize: true) }
            let loraURL =
                lora.map(URL.init(fileURLWithPath:))
                ?? checkpoint.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("loras/latentflow-random-sd15-lora.safetensors")
            try TinyModelFactory.writeLoRA(to: loraURL, for: SafeTensorsFile(path: checkpoint.path))
            print("wrote \(loraOnly ? "" : output + " and ")\(loraURL.path)")
            return
        }
        let lora = self.lora ?? "models/loras/latentflow-tiny-lora.safetensors"
        try TinyModelFactory.write(to: URL(fileURLWithPath: output))
        try TinyModelFactory.write(to: URL(fileURLWithPath: inpaintingOutput), inpainting: true)
        try TinyModelFactory.writeLoRA(to: URL(fileURLWithPath: lora))
        for path in [output, inpaintingOutput, lora] {
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            print("wrote \(path) (\(size / 1024) KiB)")
        }
    }
}
