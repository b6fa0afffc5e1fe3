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
        var outcomes: [Outcome] = []
        await withTaskGroup(of: Outcome.self) { group in
            var next = 0
            func launch() {
                guard next < names.count else { return }
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

    func render(
        _ name: String, in folder: URL, cancellation: CancellationFlag,
        events: @escaping @Sendable (ExecutionEvent) -> Void
    ) async -> Outcome {
        let record = records.appendingPathComponent(name + ".outputs.json")
        if resume, let data = try? Data(contentsOf: record),
            let files = try? JSONValue.parse(data).arrayValue?.compactMap(\.stringValue),
            !files.isEmpty, files.allSatisfy({ FileManager.default.fileExists(atPath: $0) })
        {
            return Outcome(name: name, status: .skipped, seconds: 0, files: files)
        }
        let start = Date()
        do {
            var loaded = try engine.load(folder.appendingPathComponent(name))
            try loaded.apply(overrides: overrides)
            let result = try await engine.run(loaded, cancellation: cancellation, events: events)
            let files = engine.writtenFiles(result).map(\.path)
            try FileManager.default.createDirectory(at: records, withIntermediateDirectories: true)
            try Data(JSONValue.array(files.map(JSONValue.string)).serialized().utf8).write(to: record, options: .atomic)
            return Outcome(name: name, status: .ok, seconds: Date().timeIntervalSince(start), files: files)
        } catch {
            return Outcome(
                name: name, status: .failed, seconds: Date().timeIntervalSince(start), files: [],
                error: "\(error)".replacingOccurrences(of: "\n", with: " "))
        }
    }
}
