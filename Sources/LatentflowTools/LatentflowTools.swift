import ArgumentParser
import Latentflow

/// Tools for developers, kept out of the user's command: benchmarks and the tiny model's
/// generator. `latentflow bench` and `latentflow make-tiny-model` forward here.
@main
struct LatentflowTools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latentflow-tools",
        abstract: "Latentflow's developer tools: kernel and workflow benchmarks, the tiny model's generator.",
        subcommands: [BenchCommand.self, MakeTinyModelCommand.self])

    static func main() async {
        // Before any other thread allocates: threads that already have a malloc arena keep it.
        AllocatorPolicy.keepFreedBlocksForReuse()
        // OpenBLAS's kernel choice, corrected while no other thread reads the environment.
        _ = BLASCore.replacement
        await main(nil)
    }
}
