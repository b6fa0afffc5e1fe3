// libFuzzer target: the safetensors header parser and loader, through SafeTensorsFile(path:).
import Foundation
import FuzzDriver
import Latentflow

enum Fuzz {
    static let path = NSTemporaryDirectory() + "/latentflow-fuzz-\(getpid()).safetensors"

    static func one(_ data: Data) {
        guard FileManager.default.createFile(atPath: path, contents: data),
            let file = try? SafeTensorsFile(path: path)
        else { return }
        _ = file.metadata.count
        for entry in file.entries where entry.elementCount <= 1 << 16 {
            _ = file.tensor(entry)
            _ = try? file.integers(entry.key)
            _ = try? file.rawBytes(entry.key).count
            if let first = entry.shape.first, first > 1 { _ = entry.rows(1..<first, key: entry.key + ".rows") }
        }
    }
}

runFuzzTarget(Fuzz.one)
