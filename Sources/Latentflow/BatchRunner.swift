import Foundation
import LatentflowGraph

/// Renders a folder of workflows through one engine (each model loads once), deterministic
/// sharding across machines, resumable, one failure never stopping the others.
public struct BatchRunner: Sendable {
    public struct Outcome: Sendable {
        public enum Status: String, Sendable { case ok, skipped, failed }
        public var name: String
        public var status: Status
        public var seconds: Double
        public var files: [String]
        public var error: String?

        public init(name: String, status: Status, seconds: Double, files: [String], error: String? = nil) {
            (self.name, self.status, self.seconds, self.files, self.error) = (name, status, seconds, files, error)
        }

        /// One line of the batch worker's protocol, and of `batch --json`'s summary.
        public var json: JSONValue {
            .object([
                ("workflow", .string(name)), ("status", .string(status.rawValue)), ("seconds", .double(seconds)),
                ("files", .array(files.map(JSONValue.string))), ("error", error.map(JSONValue.string) ?? .null),
            ])
        }

        public init?(json: JSONValue) {
            guard let name = json["workflow"]?.stringValue,
                let status = json["status"]?.stringValue.flatMap(Status.init)
            else { return nil }
            self.init(
                name: name, status: status, seconds: json["seconds"]?.doubleValue ?? 0,
                files: json["files"]?.arrayValue?.compactMap(\.stringValue) ?? [], error: json["error"]?.stringValue)
        }
    }

    public struct Shard: Sendable, Equatable {
        public var index: Int
        public var count: Int

        /// Parses `I/N` with 0 <= I < N.
        public init(parsing text: String) throws {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0,
                (0..<count).contains(index)
            else {
                throw WorkflowLoadError(file: "--shard", reason: "must be I/N with 0 <= I < N, got '\(text)'")
            }
            (self.index, self.count) = (index, count)
        }
    }

    public let engine: Engine
    public var jobs = 1
    public var shard: Shard?
    public var resume = false
    public var overrides: [String] = []

    public init(engine: Engine) { self.engine = engine }

    /// Workflow files of a folder (`.json`, `.png`) in name order, restricted to this shard.
    public func workflows(in folder: URL) throws -> (selected: [String], total: Int) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { ["json", "png"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        } catch {
            throw WorkflowLoadError(file: folder.path, reason: "cannot read folder: \(error.localizedDescription)")
        }
        guard let shard else { return (names, names.count) }
        return (names.enumerated().filter { $0.offset % shard.count == shard.index }.map(\.element), names.count)
    }

    /// Runs the folder's workflows, `jobs` at a time; outcomes come back in name order.
    public func run(
        folder: URL, cancellation: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (String, ExecutionEvent) -> Void = { _, _ in }
    ) async throws -> [Outcome] {
        let names = try workflows(in: folder).selected
        // Leftovers of writers killed mid-write (their pids are gone) would otherwise stay forever.
        if resume { TemporaryFileSweep.sweep(engine.paths.outputDirectory) }
        var outcomes: [Outcome] = []
        await withTaskGroup(of: Outcome.self) { group in
            var next = 0
            func launch() {
                // After Ctrl-C nothing new starts; the running workflows stop at their next step.
                guard next < names.count, !cancellation.isCancelled else { return }
                let name = names[next]
                next += 1
                group.addTask { await render(name, in: folder, cancellation: cancellation) { events(name, $0) } }
            }
            for _ in 0..<max(1, jobs) { launch() }
            for await outcome in group {
                outcomes.append(outcome)
                launch()
            }
        }
        return outcomes.sorted { $0.name < $1.name }
    }

    /// Where a finished workflow's output list is recorded, for `resume`.
    var records: URL { engine.paths.outputDirectory.appendingPathComponent(".latentflow-batch") }

    /// Renders one workflow of the folder (or skips it, with `resume`), as `run` does for each.
    public func render(
        _ name: String, in folder: URL, cancellation: CancellationFlag,
        events: @escaping @Sendable (ExecutionEvent) -> Void
    ) async -> Outcome {
        let record = records.appendingPathComponent(name + ".outputs.json")
        let journal = OutputJournal(
            file: records.appendingPathComponent(name + ".partial.json"),
            outputDirectory: engine.paths.outputDirectory)
        if resume, let files = Self.recordedFiles(record), !files.isEmpty,
            files.allSatisfy({ FileManager.default.fileExists(atPath: $0) })
        {
            return Outcome(name: name, status: .skipped, seconds: 0, files: files)
        }
        // An earlier attempt that stopped part-way (killed, failed, cancelled) is rendered again
        // in full; the files it did write go first, so the new run does not add a second copy.
        if resume { journal.removeRecordedFiles() }
        let start = Date()
        do {
            try FileManager.default.createDirectory(at: records, withIntermediateDirectories: true)
            var loaded = try engine.load(folder.appendingPathComponent(name))
            try loaded.apply(overrides: overrides)
            let result = try await engine.run(loaded, cancellation: cancellation) { event in
                journal.note(event)
                events(event)
            }
            let files = engine.writtenFiles(result).map(\.path)
            try OutputFile.replace(record, with: Data(JSONValue.array(files.map(JSONValue.string)).serialized().utf8))
            journal.finish()
            return Outcome(name: name, status: .ok, seconds: Date().timeIntervalSince(start), files: files)
        } catch {
            return Outcome(
                name: name, status: .failed, seconds: Date().timeIntervalSince(start), files: [],
                error: "\(error)".replacingOccurrences(of: "\n", with: " "))
        }
    }

    static func recordedFiles(_ record: URL) -> [String]? {
        guard let data = try? Data(contentsOf: record) else { return nil }
        return try? JSONValue.parse(data).arrayValue?.compactMap(\.stringValue)
    }
}
