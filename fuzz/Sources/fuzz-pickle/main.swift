// libFuzzer target: the PyTorch checkpoint reader (zip and legacy pickles), through TorchCheckpointFile(path:).
import Foundation
import Latentflow

enum Fuzz {
    static let path = NSTemporaryDirectory() + "/latentflow-fuzz-\(getpid()).ckpt"

    static func one(_ data: Data) {
        guard FileManager.default.createFile(atPath: path, contents: data),
            let file = try? TorchCheckpointFile(path: path)
        else { return }
        _ = TorchCheckpointFile.stateDict(in: file.root)
        for (key, info) in file.entries where info.elementCount <= 1 << 16 {
            _ = try? file.tensor(info)
            _ = try? file.integers(key)
            if let first = info.shape.first, first > 1, let rows = info.rows(1..<first) { _ = try? file.tensor(rows) }
        }
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
