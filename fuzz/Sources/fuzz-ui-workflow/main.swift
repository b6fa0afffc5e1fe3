// libFuzzer target: ComfyUI's UI/graph format converted to the API form (UIWorkflowConverter),
// then validated against the built-in nodes.
import Foundation
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

#if FUZZING
    // SwiftPM links an executable's `main` to this file's top-level code, so libFuzzer's own `main`
    // never runs: start its driver from here instead.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzz(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        Fuzz.one(bytes.map { Data(bytes: $0, count: size) } ?? Data())
        return 0
    }

    _ = Fuzz.engine  // the registry's one-time setup, before libFuzzer starts counting allocations
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runFuzzerDriver(&argc, &argv, fuzz))
#else
    // A plain build replays every file of the folders (or files) given as arguments once.
    var count = 0
    for argument in CommandLine.arguments.dropFirst() {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else { continue }
        let names =
            isFolder.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map {
                argument + "/" + $0
            } : [argument]
        for name in names {
            guard let data = FileManager.default.contents(atPath: name) else { continue }
            Fuzz.one(data)
            count += 1
        }
    }
    print("replayed \(count) inputs")
#endif
