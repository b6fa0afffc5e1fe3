// The driver every fuzz target shares: under libFuzzer (built with -DFUZZING and the sanitizers)
// it hands each input to the target's function; in a plain build it replays the corpus files given
// as arguments once, so the targets build and run with the rest of the package.
import Foundation

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The running target's function: a C callback cannot capture it, so it waits here. Set once,
    /// before the driver starts, and only read after.
    nonisolated(unsafe) private var fuzzTarget: (Data) -> Void = { _ in }

    @_cdecl("LLVMFuzzerTestOneInput")
    func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        fuzzTarget(bytes.map { Data(bytes: $0, count: size) } ?? Data())
        return 0
    }
#endif

/// Runs `target` on every input: libFuzzer's loop under FUZZING (SwiftPM links an executable's
/// `main` to its top-level code, so libFuzzer's own `main` never runs and its driver is started
/// from here), else each file of the folders or files named on the command line, once.
public func runFuzzTarget(_ target: @escaping (Data) -> Void) -> Never {
    #if FUZZING
        fuzzTarget = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    #else
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
                target(data)
                count += 1
            }
        }
        print("replayed \(count) inputs")
        exit(0)
    #endif
}
