// libFuzzer target: the PyTorch checkpoint reader (zip and legacy pickles), through TorchCheckpointFile(path:).
import Foundation
import FuzzDriver
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

runFuzzTarget(Fuzz.one)
