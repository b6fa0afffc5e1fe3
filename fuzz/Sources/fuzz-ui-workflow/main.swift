// libFuzzer target: ComfyUI's UI/graph format converted to the API form (UIWorkflowConverter),
// then validated against the built-in nodes.
import Foundation
import FuzzDriver
import Latentflow

enum Fuzz {
    static let engine: Engine = {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("latentflow-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        return try! Engine(configuration: EngineConfiguration(baseDirectory: base))
    }()

    static func one(_ data: Data) {
        guard let json = try? JSONValue.parse(data), UIWorkflowConverter.isUIFormat(json),
            let workflow = try? UIWorkflowConverter(registry: engine.registry).convert(json)
        else { return }
        _ = engine.executor.validate(workflow)
    }
}

_ = Fuzz.engine  // the registry's one-time setup, before libFuzzer starts counting allocations
runFuzzTarget(Fuzz.one)
