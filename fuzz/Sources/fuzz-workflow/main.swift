// libFuzzer target: workflow loading (JSON parser; API, UI and /prompt forms; PNG chunks) and
// validation against the built-in nodes, through the facade's Engine over an empty base folder.
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
        _ = try? JSONValue.parse(data)
        guard let loaded = try? engine.loader.load(data, source: "fuzz") else { return }
        _ = engine.validate(loaded)
    }
}

_ = Fuzz.engine  // the registry's one-time setup, before libFuzzer starts counting allocations
runFuzzTarget(Fuzz.one)
