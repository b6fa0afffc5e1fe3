// libFuzzer target: PNG and JPEG decoding and their text chunks (ImageCodec, on libpng and libjpeg).
import Foundation
import Latentflow

enum Fuzz {
    static func one(_ data: Data) {
        guard let image = try? ImageCodec.decode(data, name: "fuzz") else { return }
        for chunk in image.textChunks { _ = chunk.text.utf8.count }
        _ = image.text("prompt").map { try? JSONValue.parse($0) }
        _ = image.text("workflow").map { try? JSONValue.parse($0) }
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
