// libFuzzer target: PNG and JPEG decoding and their text chunks (ImageCodec, on libpng and libjpeg).
import Foundation
import FuzzDriver
import Latentflow

enum Fuzz {
    static func one(_ data: Data) {
        guard let image = try? ImageCodec.decode(data, name: "fuzz") else { return }
        for chunk in image.textChunks { _ = chunk.text.utf8.count }
        _ = image.text("prompt").map { try? JSONValue.parse($0) }
        _ = image.text("workflow").map { try? JSONValue.parse($0) }
    }
}

runFuzzTarget(Fuzz.one)
