import Foundation
import LatentflowTensor

#if canImport(Glibc)
    import Glibc
#endif

/// A memory-mapped safetensors file. Opening it reads and checks only the header; each tensor
/// is converted to float32 when asked for, so a 2 GB float16 checkpoint never sits in memory
/// as a whole beyond what the operating system pages in.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let metadata: [String: String]
    /// Header entries in file order.
    public let entries: [SafeTensorsEntry]
    private let index: [String: SafeTensorsEntry]
    private let mapping: UnsafeRawPointer?
    private let mappedSize: Int
    private let dataStart: Int
    /// Kept open for `stream`: it reads the file the mapping shows even if the path is replaced.
    private let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw SafeTensorsError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw SafeTensorsError.unreadable(file: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size >= 8 else {
            close(descriptor)
            throw SafeTensorsError.truncatedHeader(file: path, fileSize: size)
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            close(descriptor)
            throw SafeTensorsError.unreadable(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(address)
        do {
            let declared = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            guard declared <= UInt64(min(size - 8, SafeTensorsHeader.maximumLength)) else {
                throw SafeTensorsError.headerLength(file: path, declared: declared, available: size - 8)
            }
            let headerLength = Int(declared)
            let json = Data(bytes: base + 8, count: headerLength)
            let header = try SafeTensorsHeader(json: json, dataSize: size - 8 - headerLength, file: path)
            self.entries = header.entries
            self.metadata = header.metadata
            self.index = Dictionary(header.entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            self.dataStart = 8 + headerLength
        } catch {
            munmap(address, size)
            close(descriptor)
            throw error
        }
        self.mapping = base
        self.mappedSize = size
        self.descriptor = descriptor
    }

    deinit {
        if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping), mappedSize) }
        close(descriptor)
    }

    public var keys: [String] { entries.map(\.key) }

    public func entry(_ key: String) throws -> SafeTensorsEntry {
        guard let entry = index[key] else { throw SafeTensorsError.missingTensor(file: path, key: key) }
        return entry
    }

    /// The tensor's bytes as stored (little-endian), valid while this file object lives.
    public func rawBytes(_ key: String) throws -> UnsafeRawBufferPointer {
        let entry = try entry(key)
        return UnsafeRawBufferPointer(
            start: mapping! + dataStart + entry.dataRange.lowerBound, count: entry.dataRange.count)
    }

    /// The tensor widened (or converted) to float32.
    public func tensor(_ key: String) throws -> Tensor { tensor(try entry(key)) }

    /// The tensor of one of this file's entries widened (or converted) to float32.
    public func tensor(_ entry: SafeTensorsEntry) -> Tensor {
        Tensor(shape: entry.shape) { read(entry, into: $0) }
    }

    /// Widens (or converts) one of this file's entries into `out` (at least its element count).
    /// 16-bit tensors are widened straight from the mapping, split across the cores when large.
    public func read(_ entry: SafeTensorsEntry, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= entry.elementCount)
        let bytes = UnsafeRawBufferPointer(
            start: mapping! + dataStart + entry.dataRange.lowerBound, count: entry.dataRange.count)
        let out = UnsafeMutableBufferPointer(rebasing: out[0..<entry.elementCount])
        switch entry.dtype {
        case .float32:
            UnsafeMutableRawBufferPointer(out).copyMemory(from: bytes)
        case .float16, .bfloat16:
            let widen = entry.dtype == .float16 ? HalfPrecision.widenFloat16 : HalfPrecision.widenBFloat16
            if Int(bitPattern: bytes.baseAddress) % 2 == 0 {
                HalfPrecision.parallelWiden(bytes.assumingMemoryBound(to: UInt16.self), into: out, using: widen)
            } else {
                // Offsets in files written by safetensors are aligned; this path is for odd writers.
                let bits = (0..<out.count).map { bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) }
                bits.withUnsafeBufferPointer { widen($0, out) }
            }
        case .float64: convert(bytes, Double.self, out)
        case .int64: convert(bytes, Int64.self, out)
        case .int32: convert(bytes, Int32.self, out)
        case .int16: convert(bytes, Int16.self, out)
        case .int8: convert(bytes, Int8.self, out)
        case .uint64: convert(bytes, UInt64.self, out)
        case .uint32: convert(bytes, UInt32.self, out)
        case .uint16: convert(bytes, UInt16.self, out)
        case .uint8, .bool: convert(bytes, UInt8.self, out)
        }
    }

    /// Like `read`, but through the file descriptor in cache-sized chunks instead of the mapping:
    /// no page of the file gets mapped into this process, so reading weights layer by layer
    /// (low-memory mode) neither grows the resident set nor costs page-table work.
    /// Falls back to `read` for dtypes other than float32/float16/bfloat16.
    public func stream(_ entry: SafeTensorsEntry, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= entry.elementCount)
        let elementSize = entry.dtype.byteSize
        guard [.float32, .float16, .bfloat16].contains(entry.dtype) else { return read(entry, into: out) }
        let chunkElements = 1 << 16
        let chunks = (entry.elementCount + chunkElements - 1) / chunkElements
        let fileOffset = dataStart + entry.dataRange.lowerBound
        let widen = entry.dtype == .float16 ? HalfPrecision.widenFloat16 : HalfPrecision.widenBFloat16
        var failures = [Bool](repeating: false, count: max(1, Threads.count))
        failures.withUnsafeMutableBufferPointer { failed in
            parallelChunks(chunks) { range, thread in
                // Every element a chunk uses is read into it first.
                var bounce = [UInt16](unsafeUninitializedCapacity: elementSize == 2 ? chunkElements : 0) { _, n in
                    n = elementSize == 2 ? chunkElements : 0
                }
                for chunk in range {
                    let first = chunk * chunkElements, count = min(chunkElements, entry.elementCount - first)
                    let ok: Bool
                    if elementSize == 4 {
                        ok = readFully(
                            UnsafeMutableRawPointer(out.baseAddress! + first), count * 4, at: fileOffset + first * 4)
                    } else {
                        ok = bounce.withUnsafeMutableBufferPointer { b in
                            guard
                                readFully(
                                    UnsafeMutableRawPointer(b.baseAddress!), count * 2, at: fileOffset + first * 2)
                            else { return false }
                            let target = UnsafeMutableBufferPointer(rebasing: out[first..<(first + count)])
                            let source = UnsafeBufferPointer(rebasing: b[0..<count])
                            widen(source, target)
                            return true
                        }
                    }
                    if !ok { failed[thread] = true }
                }
            }
        }
        // The file shrank or vanished under us: the mapping still holds what was validated.
        if failures.contains(true) { read(entry, into: out) }
    }

    private func readFully(_ destination: UnsafeMutableRawPointer, _ count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    /// Lets the OS drop the pages of this tensor's bytes from memory (they are re-read from disk
    /// if touched again). Loaders call it after widening a tensor, so a float16 file's pages do
    /// not stay resident beside its float32 copy.
    public func releasePages(_ key: String) {
        if let entry = index[key] { releasePages(entry) }
    }

    /// `releasePages` for an entry of this file. Pages shared with a neighbouring tensor stay.
    public func releasePages(_ entry: SafeTensorsEntry) {
        guard let mapping else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = dataStart + entry.dataRange.lowerBound, end = dataStart + entry.dataRange.upperBound
        let alignedStart = (start + page - 1) / page * page, alignedEnd = end / page * page
        guard alignedEnd > alignedStart else { return }
        madvise(UnsafeMutableRawPointer(mutating: mapping + alignedStart), alignedEnd - alignedStart, MADV_DONTNEED)
    }

    /// Integer tensors as Int64 (for token ids, position ids and the like).
    public func integers(_ key: String) throws -> [Int64] {
        let entry = try entry(key)
        let bytes = try rawBytes(key)
        func read<T: BinaryInteger>(_ type: T.Type) -> [Int64] {
            (0..<entry.elementCount).map {
                Int64(bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
            }
        }
        switch entry.dtype {
        case .int64: return read(Int64.self)
        case .int32: return read(Int32.self)
        case .int16: return read(Int16.self)
        case .int8: return read(Int8.self)
        case .uint32: return read(UInt32.self)
        case .uint16: return read(UInt16.self)
        case .uint8, .bool: return read(UInt8.self)
        default:
            throw SafeTensorsError.unsupportedConversion(
                file: path, key: key, dtype: entry.dtype.rawValue + " to integers")
        }
    }
}

private func convert<T>(_ bytes: UnsafeRawBufferPointer, _ type: T.Type, _ out: UnsafeMutableBufferPointer<Float>)
where T: Numeric {
    for i in 0..<out.count {
        let value = bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
        switch value {
        case let v as Double: out[i] = Float(v)
        case let v as any BinaryInteger: out[i] = Float(v)
        default: out[i] = 0
        }
    }
}
