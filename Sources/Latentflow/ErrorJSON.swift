import LatentflowGraph

/// An error as JSON for machines (`run --json`, `validate --json`, the server): validation
/// failures in ComfyUI's `{error, node_errors}` shape, node failures with the node's id and type.
public func errorJSON(_ error: any Error) -> JSONValue {
    if let failure = error as? WorkflowValidationFailure { return failure.report.json }
    if let failure = error as? NodeExecutionFailure {
        return .object([
            ("node_id", .string(failure.location.nodeId)), ("node_type", .string(failure.location.classType)),
            ("exception_message", .string(failure.message)),
        ])
    }
    return .object([("message", .string("\(error)"))])
}
