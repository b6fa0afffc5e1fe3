import Foundation

/// Files a workflow may name: ComfyUI's models folders and the input folder.
public protocol FileCatalog: Sendable {
    /// Names (relative paths, `/`-separated) of the files of a folder kind, sorted.
    func files(in folder: String) -> [String]
    /// The file a name refers to; refuses names that leave the folder.
    func locate(_ name: String, in folder: String) throws -> URL
    /// The directories searched for a folder kind, for error messages.
    func searchPaths(for folder: String) -> [String]
}

/// A catalog with no files: for graphs that read none.
public struct EmptyFileCatalog: FileCatalog {
    public init() {}
    public func files(in folder: String) -> [String] { [] }
    public func locate(_ name: String, in folder: String) throws -> URL {
        throw NodeError("no '\(folder)' folder is configured")
    }
    public func searchPaths(for folder: String) -> [String] { [] }
}

/// What the executor gives nodes besides their inputs: files, folders and shared services (a
/// pack's model cache, a pack's settings). Lives across runs. The engine knows no model
/// setting: a pack owns its settings type, and whoever builds the environment hands it in.
public final class ExecutionEnvironment: @unchecked Sendable {
    public let files: FileCatalog
    public let outputDirectory: URL
    public let tempDirectory: URL
    private var services: [ObjectIdentifier: Any] = [:]
    private let lock = NSLock()

    /// - Parameter services: objects nodes find by type through `service(_:create:)`, e.g. a
    ///   pack's settings.
    public init(
        files: FileCatalog = EmptyFileCatalog(),
        outputDirectory: URL = URL(fileURLWithPath: "output"),
        tempDirectory: URL = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("latentflow-temp"),
        services: [AnyObject] = []
    ) {
        self.files = files
        self.outputDirectory = outputDirectory
        self.tempDirectory = tempDirectory
        for service in services { self.services[ObjectIdentifier(type(of: service))] = service }
    }

    /// A shared service of the given type: the one handed in, else one created on first use.
    public func service<T: AnyObject>(_ type: T.Type, create: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let existing = services[ObjectIdentifier(type)] as? T { return existing }
        let made = create()
        services[ObjectIdentifier(type)] = made
        return made
    }
}

/// Set to stop a run: checked between nodes and, by long nodes, between steps.
public final class CancellationFlag: @unchecked Sendable {
    private var cancelled = false
    private let lock = NSLock()

    public init() {}

    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }
    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}

public struct ExecutionCancelled: Error, CustomStringConvertible {
    public let nodeId: String?
    public var description: String { "execution cancelled" + (nodeId.map { " at node \($0)" } ?? "") }
}

/// Per node call: who is running, the workflow as submitted (SaveImage embeds it), progress and
/// cancellation.
public struct ExecutionContext: Sendable {
    public let nodeId: String
    public let classType: String
    public let title: String?
    public let environment: ExecutionEnvironment
    /// The API-format prompt that is running (ComfyUI's hidden PROMPT input).
    public let prompt: JSONValue
    /// Extra PNG metadata, normally `{"workflow": <UI graph>}` (ComfyUI's EXTRA_PNGINFO).
    public let extraPNGInfo: JSONValue?
    let events: @Sendable (ExecutionEvent) -> Void
    let cancellation: CancellationFlag

    public init(
        nodeId: String, classType: String, title: String? = nil, environment: ExecutionEnvironment,
        prompt: JSONValue = .object([]), extraPNGInfo: JSONValue? = nil,
        events: @escaping @Sendable (ExecutionEvent) -> Void = { _ in },
        cancellation: CancellationFlag = CancellationFlag()
    ) {
        (self.nodeId, self.classType, self.title, self.environment) = (nodeId, classType, title, environment)
        (self.prompt, self.extraPNGInfo, self.events, self.cancellation) = (prompt, extraPNGInfo, events, cancellation)
    }

    /// Reports step `step` of `total` within this node (sampler steps).
    public func progress(_ step: Int, of total: Int) {
        events(.progress(nodeId: nodeId, step: step, total: total))
    }

    /// Reports a preview image (JPEG) of step `step` of `total` (sampler steps; ComfyUI's
    /// `PREVIEW_IMAGE`).
    public func preview(_ step: Int, of total: Int, jpeg: Data) {
        events(.preview(nodeId: nodeId, step: step, total: total, jpeg: jpeg))
    }

    /// Hands a finished PNG to the client that submitted the run (the server sends it as a binary
    /// frame; the command line has no client and drops it).
    public func sendImage(png: Data) {
        events(.imageFrame(nodeId: nodeId, png: png))
    }

    /// Reports something the user should know that does not stop the node (ComfyUI logs these).
    public func warn(_ message: String) {
        events(.warning(nodeId: nodeId, message: message))
    }

    /// Throws if the run was cancelled; long nodes call it between steps.
    public func checkCancellation() throws {
        if cancellation.isCancelled || Task.isCancelled { throw ExecutionCancelled(nodeId: nodeId) }
    }
}

/// What happens during a run, in order; the CLI, batch mode and a server consume the same stream.
public enum ExecutionEvent: Sendable {
    case started(nodeCount: Int)
    case cached(nodeIds: [String])
    case nodeStarted(nodeId: String, classType: String)
    case progress(nodeId: String, step: Int, total: Int)
    /// A JPEG preview of the sampler's current prediction, after the step's `progress`.
    case preview(nodeId: String, step: Int, total: Int, jpeg: Data)
    /// A finished image for the client itself, not a file (ComfyUI's `SaveImageWebsocket`: a PNG
    /// `PREVIEW_IMAGE` frame), after that image's `progress`.
    case imageFrame(nodeId: String, png: Data)
    case nodeFinished(nodeId: String, classType: String, ui: JSONValue?)
    case warning(nodeId: String, message: String)
    case failed(nodeId: String, classType: String, message: String)
    case cancelled(nodeId: String?)
    case finished
}
