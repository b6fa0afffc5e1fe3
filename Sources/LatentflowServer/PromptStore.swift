import Foundation
import GRDB
import Latentflow

/// The queue and the history on disk (SQLite in WAL mode through GRDB), so that a server killed
/// with `kill -9` loses no accepted prompt: each state change is one transaction, committed and
/// synced before the change is acted on.
///
/// A prompt row is `pending` from `POST /prompt` until it finishes; `running` while the worker
/// runs it (with `attempts` counting the runs begun). A finished prompt moves to `history` in
/// the same transaction that deletes its row, so it is in exactly one of the two tables.
///
/// Each output file a run claims is recorded (`output_claim`) before its name exists, with the
/// identity it will have; the rows go with the prompt's `finished` transaction. A prompt that
/// runs again after a kill first deletes the files its stopped run wrote, so it ends with one set.
final class PromptStore: Sendable {
    /// Runs begun before a crash after which a prompt is reported failed instead of run again: a
    /// prompt that kills the process each time must not keep the server in a crash loop.
    static let maximumAttempts = 2

    private let database: DatabasePool
    let url: URL
    /// The history keeps this many newest entries (ComfyUI's MAXIMUM_HISTORY_SIZE).
    let historyLimit: Int

    /// Opens (or creates) the database at `url`, creating its folder.
    init(url: URL, historyLimit: Int = ServerLimits.maxHistoryEntries) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        // WAL's default NORMAL survives a killed process but not a power cut; FULL syncs each commit.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        database = try DatabasePool(path: url.path, configuration: configuration)
        (self.url, self.historyLimit) = (url, historyLimit)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // `seq` keeps submission order among equal numbers, as the in-memory queue does.
            try db.execute(
                sql: """
                    CREATE TABLE prompt (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        number REAL NOT NULL,
                        prompt TEXT NOT NULL,
                        extra_data TEXT NOT NULL,
                        client_id TEXT,
                        outputs_to_execute TEXT NOT NULL,
                        targets TEXT,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'running')),
                        attempts INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE history (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        entry TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2 output claims") { db in
            try db.execute(
                sql: """
                    CREATE TABLE output_claim (
                        prompt_id TEXT NOT NULL,
                        path TEXT NOT NULL,
                        device INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        size INTEGER NOT NULL
                    );
                    CREATE INDEX output_claim_prompt ON output_claim (prompt_id);
                    """)
        }
        return migrator
    }

    // MARK: State changes (one transaction each)

    func accepted(_ prompt: QueuedPrompt) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO prompt (id, number, prompt, extra_data, client_id, outputs_to_execute, targets, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
                    """,
                arguments: [
                    prompt.id, prompt.number, prompt.prompt.serialized(), prompt.extraData.serialized(),
                    prompt.clientId, JSONValue.array(prompt.outputsToExecute.map(JSONValue.string)).serialized(),
                    prompt.targets.map { JSONValue.array($0.map(JSONValue.string)).serialized() },
                ])
        }
    }

    func started(_ id: String) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE prompt SET state = 'running', attempts = attempts + 1 WHERE id = ?", arguments: [id])
        }
    }

    /// Stopped by a shutdown, not by the prompt: pending again, and the run does not count as an attempt.
    func stopped(_ id: String) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE prompt SET state = 'pending', attempts = max(attempts - 1, 0) WHERE id = ?",
                arguments: [id])
        }
    }

    /// The running prompt is about to claim `path` as the file `identity` names (committed
    /// before the name exists; see `OutputFile.claimRecorder`).
    func claimed(_ path: String, as identity: FileIdentity, by id: String) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO output_claim (prompt_id, path, device, inode, size) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    id, path, Int64(bitPattern: identity.device), Int64(bitPattern: identity.inode), identity.size,
                ])
        }
    }

    /// Succeeded, failed or interrupted: the prompt leaves the queue for the history, which keeps
    /// its newest `historyLimit`; its files are its own now, no longer an unfinished run's.
    func finished(_ id: String, entry: JSONValue) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM output_claim WHERE prompt_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM prompt WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM history WHERE id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO history (id, entry) VALUES (?, ?)", arguments: [id, entry.serialized()])
            try db.execute(
                sql: "DELETE FROM history WHERE seq NOT IN (SELECT seq FROM history ORDER BY seq DESC LIMIT ?)",
                arguments: [historyLimit])
        }
    }

    /// A deleted prompt's claims go with it (what a stopped run of it wrote stays, as written files do).
    func deletePending(_ ids: Set<String>?) throws {
        try database.write { db in
            let unclaim = "DELETE FROM output_claim WHERE prompt_id NOT IN (SELECT id FROM prompt)"
            guard let ids else {
                try db.execute(sql: "DELETE FROM prompt WHERE state = 'pending'")
                return try db.execute(sql: unclaim)
            }
            for id in ids {
                try db.execute(sql: "DELETE FROM prompt WHERE id = ? AND state = 'pending'", arguments: [id])
            }
            try db.execute(sql: unclaim)
        }
    }

    func deleteHistory(_ ids: Set<String>?) throws {
        try database.write { db in
            guard let ids else { return try db.execute(sql: "DELETE FROM history") }
            for id in ids { try db.execute(sql: "DELETE FROM history WHERE id = ?", arguments: [id]) }
        }
    }

    func close() throws { try database.close() }

    // MARK: Start-up

    /// A prompt row as stored; `attempts` counts the runs begun.
    struct StoredPrompt: Sendable {
        let id: String
        let number: Double
        let prompt: JSONValue
        let extraData: JSONValue
        let clientId: String?
        let outputsToExecute: [String]
        let targets: [String]?
        let wasRunning: Bool
        let attempts: Int
    }

    /// The queue in run order (the prompt that was running first: it had been taken first).
    func storedQueue() throws -> [StoredPrompt] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM prompt ORDER BY state = 'running' DESC, number, seq"
            ).map { row in
                let targets: String? = row["targets"]
                return StoredPrompt(
                    id: row["id"], number: row["number"], prompt: try JSONValue.parse(row["prompt"] as String),
                    extraData: try JSONValue.parse(row["extra_data"] as String), clientId: row["client_id"],
                    outputsToExecute: try Self.strings(row["outputs_to_execute"]),
                    targets: try targets.map(Self.strings), wasRunning: row["state"] == "running",
                    attempts: row["attempts"])
            }
        }
    }

    /// Deletes the files an unfinished run of prompt `id` claimed (those still the files it
    /// wrote: same device, inode and size), then the records: the run that follows starts clean.
    /// Returns the files deleted.
    @discardableResult
    func removeClaimedOutputs(of id: String) throws -> [String] {
        let claims = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM output_claim WHERE prompt_id = ?", arguments: [id]).map { row in
                let (device, inode): (Int64, Int64) = (row["device"], row["inode"])
                let identity = FileIdentity(
                    device: UInt64(bitPattern: device), inode: UInt64(bitPattern: inode), size: row["size"])
                return (path: row["path"] as String, identity: identity)
            }
        }
        var removed: [String] = []
        for claim in claims where claim.identity.matches(URL(fileURLWithPath: claim.path)) {
            if unlink(claim.path) == 0 { removed.append(claim.path) }
        }
        try database.write { db in
            try db.execute(sql: "DELETE FROM output_claim WHERE prompt_id = ?", arguments: [id])
        }
        return removed
    }

    /// The history, oldest first.
    func storedHistory() throws -> [(id: String, entry: JSONValue)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, entry FROM history ORDER BY seq").map { row in
                (row["id"], try JSONValue.parse(row["entry"] as String))
            }
        }
    }

    private static func strings(_ text: String) throws -> [String] {
        (try JSONValue.parse(text).arrayValue ?? []).compactMap(\.stringValue)
    }
}
