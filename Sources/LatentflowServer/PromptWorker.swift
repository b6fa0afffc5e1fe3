import Latentflow

/// Runs queued prompts one at a time, in order, through the server's single engine: its output
/// cache spans prompts, so a second prompt with the same checkpoint loads nothing again.
struct PromptWorker: Sendable {
    let engine: Engine
    let queue: PromptQueue
    let hub: WebSocketHub
    /// `ServerConfiguration.sigkillAfterOutputForTesting`.
    var sigkillAfterOutput = false

    /// Until the surrounding task is cancelled, or the queue's shutdown has ended its wake-ups.
    func run() async {
        for await _ in queue.wakeups {
            await freeIfRequested()
            while !Task.isCancelled, let next = await queue.startNext() {
                let prompt = next.prompt
                let reporter = ExecutionReporter(prompt: prompt, hub: hub)
                let (entry, cancelled) = await execute(prompt, cancellation: next.cancellation, reporter: reporter)
                if cancelled, await queue.draining {
                    // Stopped by the shutdown, not by a client: it runs again after the restart.
                    await queue.stopForShutdown(prompt)
                } else {
                    // History first: clients fetch /history as soon as they see the "done" message.
                    await queue.finish(prompt.id, entry: entry)
                }
                reporter.done()
                await freeIfRequested()
            }
        }
    }

    /// The engine's models and cached outputs live in one cache: both flags of `POST /free` empty it.
    func freeIfRequested() async {
        if await queue.takeFreeRequest() { engine.executor.cache.removeAll() }
    }

    func execute(
        _ prompt: QueuedPrompt, cancellation: CancellationFlag,
        reporter: ExecutionReporter
    ) async -> (entry: JSONValue, cancelled: Bool) {
        let claims = queue.store.map {
            PromptOutputClaims(store: $0, promptId: prompt.id, sigkillAfterOutput: sigkillAfterOutput)
        }
        do {
            let result = try await OutputFile.$claimRecorder.withValue(claims) {
                try await engine.executor.run(
                    prompt.workflow.workflow, targets: prompt.targets, extraPNGInfo: prompt.workflow.extraPNGInfo,
                    cancellation: cancellation, events: { reporter.handle($0) })
            }
            reporter.succeeded(outputs: result.ui)
            return (reporter.historyEntry(outputs: result.ui, success: true), false)
        } catch let cancelled as ExecutionCancelled {
            reporter.interrupted(at: cancelled.nodeId)
            return (reporter.historyEntry(outputs: nil, success: false), true)
        } catch {
            reporter.failed(error)
            return (reporter.historyEntry(outputs: nil, success: false), false)
        }
    }
}
