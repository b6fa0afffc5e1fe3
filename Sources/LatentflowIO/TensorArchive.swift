import Foundation
import LatentflowTensor

/// The read API model loaders use, shared by safetensors files and PyTorch checkpoints, so a
/// loader can take whichever `openModelFile` found.
public protocol TensorArchive: AnyObject, Sendable {
    var path: String { get }
    /// Tensor names in file order.
    var keys: [String] { get }
    func contains(_ key: String) -> Bool
    func shape(_ key: String) throws -> [Int]
    func dtype(_ key: String) throws -> SafeTensorsDType
    /// The tensor as dense row-major float32.
    func tensor(_ key: String) throws -> Tensor
    /// An integer tensor's values exactly.
    func integers(_ key: String) throws -> [Int64]
    /// Lets the OS drop the tensor's file pages after it was read.
    func releasePages(_ key: String)
}

extension SafeTensorsFile: TensorArchive {
    public func contains(_ key: String) -> Bool { (try? entry(key)) != nil }
    public func shape(_ key: String) throws -> [Int] { try entry(key).shape }
    public func dtype(_ key: String) throws -> SafeTensorsDType { try entry(key).dtype }
}

extension TorchCheckpointFile: TensorArchive {}

/// The container format of a model file, told from its first bytes (never its extension).
public enum ModelFileFormat: String, Sendable {
    case safetensors
    case torchZip
    case torchLegacy

    /// Reads at most the first 16 bytes of the file.
    public static func detect(path: String) throws -> ModelFileFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TorchPickleError.unreadable(file: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 512)) ?? Data())
        if head.count >= 4, head[0..<4] == [0x50, 0x4B, 0x03, 0x04] { return .torchZip }
        if head.withUnsafeBytes({ TorchLegacyFormat.matches($0) }) { return .torchLegacy }
        // safetensors: an 8-byte little-endian header length, then the header's JSON object.
        if head.count >= 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        if head.count >= 262, head[257..<262] == Array("ustar".utf8)[...] {
            throw TorchPickleError.unrecognisedFormat(
                file: path,
                reason: "this is the tar-based torch.save format of PyTorch before 0.1.10, which is not supported")
        }
        let shown = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw TorchPickleError.unrecognisedFormat(file: path, reason: "the file begins with bytes [\(shown)]")
    }
}

/// Opens a model file as whichever format its contents are, so a `.ckpt` is never reported as
/// a bad safetensors header and a safetensors file named `.ckpt` still loads.
public func openModelFile(path: String) throws -> any TensorArchive {
    switch try ModelFileFormat.detect(path: path) {
    case .safetensors: return try SafeTensorsFile(path: path)
    case .torchZip, .torchLegacy: return try TorchCheckpointFile(path: path)
    }
}
