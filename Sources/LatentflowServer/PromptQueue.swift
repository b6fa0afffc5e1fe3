import Latentflow

/// The queue is full; the client should retry later (HTTP 503).
struct PromptQueueFull: Error {}

/// The server is shutting down and takes no more prompts (HTTP 503).
struct PromptQueueDraining: Error {}

/// Pending prompts in priority order, the one running, and the history of finished ones. An
/// actor: HTTP handlers and the worker touch it concurrently. With a store, every change is
/// committed to it before it is made here, so what clients were told survives a crash.
actor PromptQueue {
    private var pending: [QueuedPrompt] = []
    private var running: QueuedPrompt?
    private var runningCancellation: CancellationFlag?
    /// ComfyUI's counter: each accepted prompt takes the next number.
    private var counter = 0
    private var historyOrder: [String] = []
    private var history: [String: JSONValue] = [:]
    /// `POST /free` asked for the cached models and outputs to go (once the running prompt ends).
    private var freeRequested = false
    /// A shutdown began: nothing new is accepted or started.
    private(set) var draining = false
    /// Set once; the worker records the running prompt's output files in it.
    nonisolated let store: PromptStore?
    /// Pending prompts beyond this are refused (`PromptQueueFull`).
    nonisolated let maxPending: Int

    /// One wake-up per enqueue; the worker drains the queue on each (coalesced: it only needs
    /// to know that there may be work).
    nonisolated let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Told the number of remaining prompts whenever it changes (the WebSocket `status` broadcast).
    private let onChange: @Sendable (Int) -> Void

    /// - Parameter restored: what the store held at start-up (pending in run order, history oldest first).
    init(
        store: PromptStore? = nil, restored: RestoredQueue = RestoredQueue(),
        maxPending: Int = ServerLimits.defaultMaxPendingPrompts, onChange: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (self.store, self.onChange, self.maxPending) = (store, onChange, maxPending)
        pending = restored.pending
        history = Dictionary(restored.history.map { ($0.id, $0.entry) }, uniquingKeysWith: { $1 })
        historyOrder = restored.history.map(\.id)
        counter = restored.counter
        if !pending.isEmpty { wake.yield() }
    }

    /// ComfyUI's `queue_remaining`: pending plus running.
    var remaining: Int { pending.count + (running == nil ? 0 : 1) }

    /// Assigns the prompt's number (the caller's, or the counter's; `front` puts it first).
    func nextNumber(requested: Double?, front: Bool) -> Double {
        counter += 1
        if let requested { return requested }
        return front ? -Double(counter) : Double(counter)
    }

    func enqueue(_ prompt: QueuedPrompt) throws {
        guard !draining else { throw PromptQueueDraining() }
        guard pending.count < maxPending else { throw PromptQueueFull() }
        // Recorded first: an accepted prompt is one that is on disk.
        try store?.accepted(prompt)
        // Stable: equal numbers keep submission order.
        let index = pending.firstIndex { $0.number > prompt.number } ?? pending.endIndex
        pending.insert(prompt, at: index)
        wake.yield()
        onChange(remaining)
    }

    /// Moves the first pending prompt to running; nil when there is none.
    func startNext() -> (prompt: QueuedPrompt, cancellation: CancellationFlag)? {
        guard !draining, running == nil, !pending.isEmpty else { return nil }
        let next = pending.removeFirst()
        record("start \(next.id)") { try $0.started(next.id) }
        let cancellation = CancellationFlag()
        (running, runningCancellation) = (next, cancellation)
        onChange(remaining)
        return (next, cancellation)
    }

    func finish(_ id: String, entry: JSONValue) {
        record("finish \(id)") { try $0.finished(id, entry: entry) }
        if running?.id == id { (running, runningCancellation) = (nil, nil) }
        if history[id] == nil { historyOrder.append(id) }
        history[id] = entry
        while historyOrder.count > ServerLimits.maxHistoryEntries { history[historyOrder.removeFirst()] = nil }
        onChange(remaining)
    }

    /// The running prompt was stopped by the shutdown: it is pending again and runs from the
    /// start when the server next starts.
    func stopForShutdown(_ prompt: QueuedPrompt) {
        record("return \(prompt.id) to the queue") { try $0.stopped(prompt.id) }
        if running?.id == prompt.id { (running, runningCancellation) = (nil, nil) }
        pending.insert(prompt, at: 0)
        onChange(remaining)
    }

    /// Stops taking and starting prompts, interrupts the running one at its next sampler step or
    /// node boundary, and ends the worker's wake-ups (it returns once that prompt is recorded).
    func beginShutdown() {
        guard !draining else { return }
        draining = true
        runningCancellation?.cancel()
        wake.finish()
    }

    /// The database is closed once the worker has stopped; nothing is recorded afterwards.
    func closeStore() {
        record("close the database") { try $0.close() }
    }

    /// A failed write is reported and the in-memory change still made: the server keeps serving,
    /// and at worst the prompt runs once more after a restart.
    private func record(_ what: String, _ change: (PromptStore) throws -> Void) {
        guard let store else { return }
        do { try change(store) } catch {
            printServerWarning("latentflow serve: cannot \(what) in \(store.url.path): \(error)")
        }
    }

    // MARK: Queue routes

    var runningJSON: [JSONValue] { running.map { [$0.queueJSON] } ?? [] }
    var pendingJSON: [JSONValue] { pending.map(\.queueJSON) }

    func clearPending() {
        record("clear the queue") { try $0.deletePending(nil) }
        pending.removeAll()
        onChange(remaining)
    }

    func deletePending(_ ids: Set<String>) {
        record("delete from the queue") { try $0.deletePending(ids) }
        pending.removeAll { ids.contains($0.id) }
        onChange(remaining)
    }

    /// Stops the running prompt, or only that prompt when an id is given (ComfyUI's semantics).
    func interrupt(promptId: String?) {
        guard let running, promptId == nil || promptId == running.id else { return }
        runningCancellation?.cancel()
    }

    /// ComfyUI's `unload_models` / `free_memory` flags: honoured between prompts.
    func requestFree() {
        freeRequested = true
        wake.yield()
    }

    func takeFreeRequest() -> Bool {
        defer { freeRequested = false }
        return freeRequested
    }

    // MARK: History routes

    /// Entries oldest first; `offset` < 0 with `maxItems` means the newest `maxItems`.
    func historyEntries(maxItems: Int?, offset: Int) -> [(key: String, value: JSONValue)] {
        var ids = historyOrder[...]
        var start = offset
        if start < 0, let maxItems { start = max(0, ids.count - maxItems) }
        ids = ids.dropFirst(max(0, start))
        if let maxItems { ids = ids.prefix(maxItems) }
        return ids.compactMap { id in history[id].map { (id, $0) } }
    }

    func historyEntry(_ id: String) -> JSONValue? { history[id] }

    func clearHistory() {
        record("clear the history") { try $0.deleteHistory(nil) }
        history.removeAll()
        historyOrder.removeAll()
    }

    func deleteHistory(_ ids: Set<String>) {
        record("delete from the history") { try $0.deleteHistory(ids) }
        for id in ids { history[id] = nil }
        historyOrder.removeAll { ids.contains($0) }
    }
}
