import ArgumentParser
import Latentflow

@main
struct LatentflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latentflow",
        abstract: "A headless, ComfyUI-compatible workflow engine for Stable Diffusion 1.5 on the CPU.",
        subcommands: [
            RunCommand.self, ValidateCommand.self, BatchCommand.self, BatchWorkerCommand.self, ConvertCommand.self,
            NodesCommand.self, ServeCommand.self, ToolsForwarder.Bench.self, ToolsForwarder.MakeTinyModel.self,
        ])

    static func main() async {
        // Before any other thread allocates: threads that already have a malloc arena keep it.
        AllocatorPolicy.keepFreedBlocksForReuse()
        // OpenBLAS's kernel choice, corrected while no other thread reads the environment.
        _ = BLASCore.replacement
        await main(nil)
    }
}
