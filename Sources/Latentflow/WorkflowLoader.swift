import Foundation
import LatentflowGraph
import LatentflowIO

/// A workflow ready to run, and the metadata SaveImage embeds with it.
public struct LoadedWorkflow: Sendable {
    public var workflow: Workflow
    /// `{"workflow": <UI graph>}` when the source had one, as ComfyUI's EXTRA_PNGINFO.
    public var extraPNGInfo: JSONValue?
    public var source: String
    /// The node schemas the UI graph in `extraPNGInfo` was read with: overrides edit its widgets too.
    var registry: NodeRegistry?

    public init(workflow: Workflow, extraPNGInfo: JSONValue? = nil, source: String) {
        (self.workflow, self.extraPNGInfo, self.source) = (workflow, extraPNGInfo, source)
    }
}

public struct WorkflowLoadError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}

/// Reads workflows in every form ComfyUI writes: API JSON, UI JSON, a `/prompt` request body,
/// and PNG files carrying `prompt` / `workflow` text chunks.
public struct WorkflowLoader {
    public let registry: NodeRegistry

    public init(registry: NodeRegistry) { self.registry = registry }

    public func load(contentsOf url: URL) throws -> LoadedWorkflow {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WorkflowLoadError(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try load(data, source: url.path)
    }

    public func load(_ data: Data, source: String) throws -> LoadedWorkflow {
        if ImageCodec.sniff(data) != nil {
            var loaded = try loadImage(data, source: source)
            loaded.registry = registry
            return loaded
        }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch {
            throw WorkflowLoadError(file: source, reason: "\(error)")
        }
        return try load(json, source: source)
    }

    public func load(_ json: JSONValue, source: String) throws -> LoadedWorkflow {
        var loaded = try read(json, source: source)
        loaded.registry = registry
        return loaded
    }

    private func read(_ json: JSONValue, source: String) throws -> LoadedWorkflow {
        do {
            if UIWorkflowConverter.isUIFormat(json) {
                let workflow = try UIWorkflowConverter(registry: registry).convert(json)
                return LoadedWorkflow(workflow: workflow, extraPNGInfo: .object([("workflow", json)]), source: source)
            }
            // A saved `/prompt` request body: {"prompt": {...}, "extra_data": {"extra_pnginfo": {...}}}.
            if let prompt = json["prompt"], prompt.objectPairs != nil, prompt["class_type"] == nil {
                return LoadedWorkflow(
                    workflow: try Workflow(apiJSON: prompt),
                    extraPNGInfo: json["extra_data"]?["extra_pnginfo"], source: source)
            }
            return LoadedWorkflow(workflow: try Workflow(apiJSON: json), source: source)
        } catch let error as WorkflowFormatError {
            throw WorkflowLoadError(file: source, reason: error.message)
        }
    }

    /// A ComfyUI output image is itself a workflow: its `prompt` chunk is exactly what ran; the
    /// `workflow` chunk (the UI graph) is used when there is no prompt.
    private func loadImage(_ data: Data, source: String) throws -> LoadedWorkflow {
        let image = try ImageCodec.decode(data, name: source)
        let parse: (String) throws -> JSONValue = { text in
            do { return try JSONValue.parse(text) } catch {
                throw WorkflowLoadError(file: source, reason: "embedded workflow: \(error)")
            }
        }
        let ui = try image.text("workflow").map(parse)
        if let prompt = try image.text("prompt").map(parse) {
            do {
                return LoadedWorkflow(
                    workflow: try Workflow(apiJSON: prompt),
                    extraPNGInfo: ui.map { .object([("workflow", $0)]) }, source: source)
            } catch let error as WorkflowFormatError {
                throw WorkflowLoadError(file: source, reason: "embedded prompt: \(error.message)")
            }
        }
        if let ui { return try load(ui, source: source) }
        throw WorkflowLoadError(file: source, reason: "the image carries no 'prompt' or 'workflow' metadata")
    }
}

extension LoadedWorkflow {
    /// Applies `NODE.INPUT=VALUE` overrides; NODE is a node id or title, VALUE is JSON or text.
    /// The UI graph the outputs embed (`workflow`) gets the same values where the input is a widget
    /// there, so dragging an output back into ComfyUI loads the graph that ran.
    public mutating func apply(overrides: [String]) throws {
        for override in overrides {
            guard let equals = override.firstIndex(of: "="), let dot = override[..<equals].lastIndex(of: ".") else {
                throw WorkflowLoadError(file: source, reason: "override '\(override)' is not NODE.INPUT=VALUE")
            }
            let nodeKey = String(override[..<dot]), input = String(override[override.index(after: dot)..<equals])
            let text = String(override[override.index(after: equals)...])
            let value = (try? JSONValue.parse(text)) ?? .string(text)
            guard
                let index = workflow.nodes.firstIndex(where: { $0.id == nodeKey })
                    ?? workflow.nodes.firstIndex(where: { $0.title == nodeKey })
            else {
                throw WorkflowLoadError(
                    file: source, reason: "override '\(override)': no node with id or title '\(nodeKey)'")
            }
            workflow.nodes[index].set(input, .constant(value))
            if let registry, let graph = extraPNGInfo?["workflow"],
                let edited = UIWorkflowConverter(registry: registry).settingWidget(
                    in: graph, nodeId: workflow.nodes[index].id, input: input, to: value),
                case .object(var info)? = extraPNGInfo, let key = info.firstIndex(where: { $0.key == "workflow" })
            {
                info[key].value = edited
                extraPNGInfo = .object(info)
            }
        }
    }
}
