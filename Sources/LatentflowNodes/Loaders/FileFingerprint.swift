import Foundation
import LatentflowGraph

/// A loader's cache fingerprint: the file's resolved path, size and modification time, so a file
/// changed on disk is loaded again and an unchanged one comes from the cache.
func fileFingerprint(_ name: String?, folder: String, environment: ExecutionEnvironment) -> Fingerprint {
    guard let name, let url = try? environment.files.locate(name, in: folder),
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
    else { return .unchanged }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return .value("\(url.path)|\(size)|\(modified)")
}
