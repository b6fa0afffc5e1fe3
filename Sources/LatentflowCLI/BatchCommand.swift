import ArgumentParser
import Foundation
import Latentflow

/// Renders every workflow of a folder through one engine, so each model loads once.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run every workflow (.json, .png) in a folder; one failure does not stop the others.",
        discussion: """
            --shard I/N runs the workflows whose position in name order is I modulo N (I from 0), so N \
            machines (a Kubernetes indexed Job, a Slurm array) split one folder deterministically. \
            --resume skips workflows whose outputs a previous batch recorded and that still exist. \
            Files are written atomically (a temporary file, then a rename that never replaces another file). \
            Workflows render in worker processes (this binary's hidden `batch-worker` command); one that \
            crashes its worker is recorded as failed ("the worker crashed (signal N)"), the worker starts \
            again and the batch goes on. --jobs N runs N workers, each with its own engine and model \
            cache, so each model loads once per worker and memory grows with N.
            """)

    @Argument(help: "Folder of workflows.")
    var directory: String

    @Option(help: "Workflows run at once, each in its own worker process (with its own model cache).")
    var jobs = 1

    @Option(help: "Run only shard I of N (0-based), e.g. 2/8.")
    var shard: String?

    @Flag(help: "Skip workflows whose recorded outputs are all present.")
    var resume = false

    @Option(name: .customLong("set"), help: "Override a constant input in every workflow: NODE.INPUT=VALUE.")
    var overrides: [String] = []

    @OptionGroup var folders: FolderOptions

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() async throws {
        let engine = try folders.engine()
        // Temporary files of writers killed mid-write; live writers' files are left alone.
        TemporaryFileSweep.sweep(engine.paths.outputDirectory)
        var runner = BatchRunner(engine: engine)
        runner.shard = try shard.map(BatchRunner.Shard.init(parsing:))
        let folder = URL(fileURLWithPath: directory)
        let (names, total) = try runner.workflows(in: folder)
        // A worker that has died writes nothing more; its pipe must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let cancellation = CancellationFlag()
        let supervisor = BatchSupervisor(
            names: names, workerArguments: workerArguments, outputDirectory: engine.paths.outputDirectory,
            cancellation: cancellation)
        SignalHandler.onInterrupt {
            cancellation.cancel()
            supervisor.cancel()
        }
        let outcomes = await supervisor.run(jobs: jobs)
        report(outcomes, total: total)
        if cancellation.isCancelled { throw ExitCode(130) }  // as a shell reports SIGINT
        if outcomes.contains(where: { $0.status == .failed }) { throw ExitCode.failure }
    }

    /// `latentflow batch-worker` with this batch's settings.
    var workerArguments: [String] {
        ["batch-worker", directory] + (resume ? ["--resume"] : []) + overrides.flatMap { ["--set", $0] }
            + folders.arguments + (json ? ["--quiet"] : [])
    }

    func report(_ outcomes: [BatchRunner.Outcome], total: Int) {
        if json {
            let rows = outcomes.map(\.json)
            print(
                JSONValue.object([("total", .int(Int64(total))), ("workflows", .array(rows))]).serialized(pretty: true))
            return
        }
        let width = max(8, outcomes.map(\.name.count).max() ?? 8)
        print("workflow".padding(toLength: width, withPad: " ", startingAt: 0) + "  status     time  detail")
        for o in outcomes {
            let detail = o.error ?? (o.files.isEmpty ? "(all outputs cached)" : o.files.joined(separator: " "))
            print(
                o.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + o.status.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                    + String(format: "%7.1fs", o.seconds) + "  " + detail)
        }
        let failed = outcomes.filter { $0.status == .failed }.count
        print(
            "\(outcomes.count) of \(total) workflow(s) run here: \(outcomes.count - failed) ok or skipped, \(failed) failed"
        )
    }
}

/// One progress printer per workflow, labelled with its name.
final class PrinterSet: @unchecked Sendable {
    private let quiet: Bool
    private var printers: [String: ProgressPrinter] = [:]
    private let lock = NSLock()

    init(quiet: Bool) { self.quiet = quiet }

    func printer(for name: String) -> ProgressPrinter {
        lock.lock()
        defer { lock.unlock() }
        if let existing = printers[name] { return existing }
        let made = ProgressPrinter(label: "[\(name)] ", quiet: quiet)
        printers[name] = made
        return made
    }
}
