import ArgumentParser
import Foundation
import Latentflow

#if canImport(Glibc)
    import Glibc
#endif

/// `latentflow batch-worker`: the process `batch` renders its workflows in, so that one that
/// crashes the process (a trap, a signal) fails alone. It keeps one engine, so each model loads
/// once per worker, and speaks JSON lines: standard input brings `{"render": NAME}` and
/// `{"cancel": true}` (end of input cancels too), standard output answers each render with
/// `{"outcome": {...}}`; progress goes to standard error, which it shares with `batch`.
struct BatchWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-worker", abstract: "Render workflows for `latentflow batch` (internal).",
        shouldDisplay: false)

    @Argument(help: "Folder of workflows.")
    var directory: String

    @Flag(help: "Skip workflows whose recorded outputs are all present.")
    var resume = false

    @Option(name: .customLong("set"), help: "Override a constant input in every workflow: NODE.INPUT=VALUE.")
    var overrides: [String] = []

    @OptionGroup var folders: FolderOptions

    @Flag(help: "Print no progress.")
    var quiet = false

    func run() async throws {
        // A terminal's Ctrl-C reaches the whole process group; `batch` decides and tells us.
        signal(SIGINT, SIG_IGN)
        let engine = try folders.engine()
        var runner = BatchRunner(engine: engine)
        runner.resume = resume
        runner.overrides = overrides
        let folder = URL(fileURLWithPath: directory)
        let cancellation = CancellationFlag()
        let requests = AsyncStream<String> { continuation in
            let reader = Thread {
                while let line = readLine() {
                    guard let request = try? JSONValue.parse(Data(line.utf8)) else { continue }
                    if request["cancel"] != nil { cancellation.cancel() }
                    if let name = request["render"]?.stringValue { continuation.yield(name) }
                }
                cancellation.cancel()  // `batch` is gone or done
                continuation.finish()
            }
            reader.name = "latentflow-worker-input"
            reader.start()
        }
        let printers = PrinterSet(quiet: quiet)
        for await name in requests {
            let printer = printers.printer(for: name)
            let outcome = await runner.render(name, in: folder, cancellation: cancellation) { printer.handle($0) }
            let line = JSONValue.object([("outcome", outcome.json)]).serialized() + "\n"
            do { try FileHandle.standardOutput.write(contentsOf: Data(line.utf8)) } catch { return }
        }
    }
}

/// The `batch` side of one worker process.
final class BatchWorkerProcess: @unchecked Sendable {
    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()
    private let lock = NSLock()
    private var closed = false

    init(arguments: [String]) throws {
        process.executableURL = Self.executable
        process.arguments = arguments
        let toWorker = Pipe()
        let fromWorker = Pipe()
        process.standardInput = toWorker
        process.standardOutput = fromWorker
        try process.run()
        input = toWorker.fileHandleForWriting
        output = fromWorker.fileHandleForReading
    }

    /// This very binary, whatever the current folder or `PATH`.
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0])
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends one request; false once the worker is gone.
    @discardableResult
    func send(_ request: JSONValue) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return false }
        return (try? input.write(contentsOf: Data((request.serialized() + "\n").utf8))) != nil
    }

    /// The worker's outcome for `name`; nil when the worker died first.
    func render(_ name: String) -> BatchRunner.Outcome? {
        guard send(.object([("render", .string(name))])) else { return nil }
        while let line = readLine() {
            if let outcome = (try? JSONValue.parse(Data(line.utf8)))?["outcome"].flatMap(
                BatchRunner.Outcome.init(json:))
            {
                return outcome
            }
        }
        return nil
    }

    private func readLine() -> String? {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...end)
                return line
            }
            let chunk = output.availableData
            guard !chunk.isEmpty else { return nil }
            buffer.append(chunk)
        }
    }

    /// How the worker ended, once it has: "the worker crashed (signal 11)".
    func death() -> String {
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            return "the worker crashed (signal \(process.terminationStatus))"
        }
        return "the worker exited (status \(process.terminationStatus))"
    }

    /// Ends the worker's input (it exits when its current workflow is done) and waits for it.
    func close() {
        lock.lock()
        closed = true
        try? input.close()
        lock.unlock()
        process.waitUntilExit()
    }
}

/// Hands a batch's workflows to `jobs` worker processes, one workflow at a time each, and starts
/// a worker again after one crashes (its workflow is recorded as failed).
final class BatchSupervisor: @unchecked Sendable {
    private let names: [String]
    private let workerArguments: [String]
    private let outputDirectory: URL
    private let cancellation: CancellationFlag
    private let lock = NSLock()
    private var next = 0
    private var outcomes: [BatchRunner.Outcome] = []
    private var live: [Int32: BatchWorkerProcess] = [:]

    init(names: [String], workerArguments: [String], outputDirectory: URL, cancellation: CancellationFlag) {
        self.names = names
        self.workerArguments = workerArguments
        self.outputDirectory = outputDirectory
        self.cancellation = cancellation
    }

    /// Renders every workflow; outcomes come back in name order.
    func run(jobs: Int) async -> [BatchRunner.Outcome] {
        let slots = max(1, min(jobs, names.count))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for slot in 0..<slots {
                group.enter()
                let thread = Thread { [self] in
                    serve()
                    group.leave()
                }
                thread.name = "latentflow-batch-slot-\(slot)"
                thread.start()
            }
            group.notify(queue: .global()) { done.resume() }
        }
        return finished()
    }

    private func finished() -> [BatchRunner.Outcome] {
        lock.lock()
        defer { lock.unlock() }
        return outcomes.sorted { $0.name < $1.name }
    }

    /// Tells every worker to cancel: their running workflows stop at the next step.
    func cancel() {
        lock.lock()
        let workers = Array(live.values)
        lock.unlock()
        for worker in workers { worker.send(.object([("cancel", .bool(true))])) }
    }

    private func take() -> String? {
        lock.lock()
        defer { lock.unlock() }
        // After Ctrl-C nothing new starts.
        guard next < names.count, !cancellation.isCancelled else { return nil }
        next += 1
        return names[next - 1]
    }

    private func record(_ outcome: BatchRunner.Outcome) {
        lock.lock()
        outcomes.append(outcome)
        lock.unlock()
    }

    private func track(_ worker: BatchWorkerProcess, live isLive: Bool) {
        lock.lock()
        live[worker.pid] = isLive ? worker : nil
        lock.unlock()
    }

    /// One slot: a worker, started again whenever it dies.
    private func serve() {
        var worker: BatchWorkerProcess?
        while let name = take() {
            let start = Date()
            if worker == nil {
                do {
                    let started = try BatchWorkerProcess(arguments: workerArguments)
                    track(started, live: true)
                    if cancellation.isCancelled { started.send(.object([("cancel", .bool(true))])) }
                    worker = started
                } catch {
                    record(
                        .init(
                            name: name, status: .failed, seconds: 0, files: [], error: "cannot start a worker: \(error)"
                        ))
                    continue
                }
            }
            guard let current = worker else { continue }
            if let outcome = current.render(name) {
                record(outcome)
                continue
            }
            let reason = current.death()
            track(current, live: false)
            worker = nil
            printError("[\(name)] \(reason)")
            // Temporary files of the dead worker's writers.
            TemporaryFileSweep.sweep(outputDirectory)
            record(
                .init(name: name, status: .failed, seconds: Date().timeIntervalSince(start), files: [], error: reason))
        }
        if let worker {
            worker.close()
            track(worker, live: false)
        }
    }
}
