// libFuzzer target: PNG and JPEG decoding and their text chunks (ImageCodec, on libpng and libjpeg).
import Foundation
import FuzzDriver
import Latentflow

enum Fuzz {
    static func one(_ data: Data) {
        // With a pixel budget, as LoadImage always decodes (from the memory budget): without one, a
        // 256-byte truncated JPEG whose header claims 21349x29045 pixels makes libjpeg fill 620
        // million pixels (a 10 s timeout here under ASan; found by a 10-minute run).
        guard let image = try? ImageCodec.decode(data, name: "fuzz", maxPixels: 1 << 24) else { return }
        for chunk in image.textChunks { _ = chunk.text.utf8.count }
        _ = image.text("prompt").map { try? JSONValue.parse($0) }
        _ = image.text("workflow").map { try? JSONValue.parse($0) }
    }
}

runFuzzTarget(Fuzz.one)
