import Latentflow

/// One accepted `POST /prompt`: what ComfyUI keeps in its queue tuple, plus the loaded workflow.
struct QueuedPrompt: Sendable {
    /// Queue priority: lower runs first (ComfyUI's `number`; `front` makes it negative).
    let number: Double
    let id: String
    /// The API prompt as submitted, echoed by `/queue` and `/history`.
    let prompt: JSONValue
    let extraData: JSONValue
    /// The output nodes that passed validation; only they run (ComfyUI's `outputs_to_execute`).
    let outputsToExecute: [String]
    /// Only this WebSocket client hears the prompt's progress.
    let clientId: String?
    let workflow: LoadedWorkflow
    /// ComfyUI's `partial_execution_targets`, when given.
    let targets: [String]?

    /// ComfyUI's list form: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`.
    var queueJSON: JSONValue {
        .array([
            Self.numberJSON(number), .string(id), prompt, extraData,
            .array(outputsToExecute.map(JSONValue.string)),
        ])
    }

    /// Whole numbers print as integers, as Python prints the counter it assigns.
    static func numberJSON(_ number: Double) -> JSONValue {
        number.rounded() == number && abs(number) < 1e15 ? .int(Int64(number)) : .double(number)
    }
}
