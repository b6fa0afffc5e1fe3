import Foundation
import Hummingbird
import Latentflow

/// `POST /prompt` validates and queues a workflow; `GET /prompt` reports the queue's length.
extension LatentflowServer {
    func addPromptRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/prompt") { _, _ in
            await JSONResponse.make(
                .object([
                    (
                        "exec_info",
                        .object([
                            ("queue_remaining", .int(Int64(self.queue.remaining)))
                        ])
                    )
                ]))
        }
        router.post("\(prefix)/prompt") { request, context in
            try await self.submitPrompt(try await request.jsonBody(context: context))
        }
    }

    func submitPrompt(_ body: JSONValue) async throws -> Response {
        guard let prompt = body["prompt"], prompt.objectPairs != nil else {
            return JSONResponse.error("no_prompt", "No prompt provided", details: "No prompt provided")
        }
        let promptId = body["prompt_id"]?.stringValue ?? UUID().uuidString.lowercased()
        let clientId = body["client_id"]?.stringValue
        var extraData = body["extra_data"].flatMap { $0.objectPairs == nil ? nil : $0 } ?? .object([])
        if let clientId { extraData = extraData.setting("client_id", .string(clientId)) }
        let targets = body["partial_execution_targets"]?.arrayValue?.compactMap(\.stringValue)

        var workflow: LoadedWorkflow
        do {
            workflow = try engine.loader.load(prompt, source: "prompt \(promptId)")
        } catch let error as WorkflowLoadError {
            // A node without class_type and similar: the whole prompt is unusable (`error`, not `node_errors`).
            return JSONResponse.error(
                "invalid_prompt", "Cannot execute because the prompt is malformed.",
                details: error.reason)
        }
        workflow.extraPNGInfo = extraData["extra_pnginfo"]
        let report = engine.executor.validate(workflow.workflow, targets: targets)
        let nodeErrors = report.json["node_errors"] ?? .object([])
        guard report.isRunnable else { return Self.validationFailure(report) }

        let number = await queue.nextNumber(
            requested: body["number"]?.doubleValue,
            front: body["front"]?.boolValue ?? false)
        // Queued (and so echoed by /queue and /history) with the validated values, as ComfyUI does.
        let validatedPrompt = workflow.workflow.submittedJSON(
            prompt, asValidated: report, registry: engine.executor.registry)
        let queued = QueuedPrompt(
            number: number, id: promptId, prompt: validatedPrompt, extraData: extraData,
            outputsToExecute: report.validOutputs, clientId: clientId, workflow: workflow,
            targets: targets)
        do {
            try await queue.enqueue(queued)
        } catch is PromptQueueFull {
            return JSONResponse.error(
                "queue_full", "The queue is full; try again later.",
                details: "\(queue.maxPending) prompts are pending (latentflow serve --max-queue)",
                status: .serviceUnavailable)
        } catch is PromptQueueDraining {
            return JSONResponse.error(
                "server_shutting_down", "The server is shutting down; try again once it has restarted.",
                details: "the queue takes no new prompts while it drains", status: .serviceUnavailable)
        } catch {
            // The store could not record it: not accepted, so the client must not count on it.
            return JSONResponse.error(
                "prompt_not_recorded", "The prompt could not be recorded in the queue's database.",
                details: "\(error)", status: .internalServerError)
        }
        return JSONResponse.make(
            .object([
                ("prompt_id", .string(promptId)), ("number", QueuedPrompt.numberJSON(number)),
                ("node_errors", nodeErrors),
            ]))
    }

    /// ComfyUI's 400: a prompt-level problem (an unknown node class, no outputs) stands alone in
    /// `error` with empty `node_errors`; otherwise the per-node errors.
    static func validationFailure(_ report: ValidationReport) -> Response {
        if let whole = report.errors.first(where: { $0.kind == .invalidPrompt || $0.kind == .noOutputs }) {
            return JSONResponse.make(
                .object([("error", whole.json), ("node_errors", .object([]))]),
                status: .badRequest)
        }
        return JSONResponse.make(report.json, status: .badRequest)
    }
}
