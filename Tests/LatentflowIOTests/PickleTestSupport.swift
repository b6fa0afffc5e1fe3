import Foundation

/// Hand-built pickle bytes for the hostile-input tests: each method appends one opcode.
struct PickleBytes {
    var bytes: [UInt8] = []

    init(protocol version: UInt8 = 2) { bytes = [0x80, version] }

    mutating func op(_ code: UInt8, _ operand: [UInt8] = []) {
        bytes.append(code)
        bytes += operand
    }

    mutating func global(_ module: String, _ name: String) { op(0x63, Array("\(module)\n\(name)\n".utf8)) }
    mutating func string(_ text: String) {
        let raw = Array(text.utf8)
        op(0x58, le(UInt32(raw.count)) + raw)
    }
    mutating func int(_ value: Int32) { op(0x4A, le(value)) }
    /// LONG1 of 8 bytes: any Int64.
    mutating func long(_ value: Int64) { op(0x8A, [8] + le(value)) }
    mutating func mark() { op(0x28) }
    mutating func tuple() { op(0x74) }
    mutating func emptyTuple() { op(0x29) }
    mutating func emptyDict() { op(0x7D) }
    mutating func emptyList() { op(0x5D) }
    mutating func reduce() { op(0x52) }
    mutating func setItem() { op(0x73) }
    mutating func newFalse() { op(0x89) }
    mutating func persistentID() { op(0x51) }
    mutating func stop() { op(0x2E) }

    /// ('storage', torch.<type>, key, 'cpu', numel) BINPERSID.
    mutating func storage(key: String, count: Int64, type: String = "FloatStorage") {
        mark()
        string("storage")
        global("torch", type)
        string(key)
        string("cpu")
        long(count)
        tuple()
        persistentID()
    }

    /// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
    mutating func tensor(key: String = "0", count: Int64, offset: Int64, size: [Int64], stride: [Int64]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        storage(key: key, count: count)
        long(offset)
        mark()
        size.forEach { long($0) }
        tuple()
        mark()
        stride.forEach { long($0) }
        tuple()
        newFalse()
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tuple()
        reduce()
    }

    /// {'w': <tensor>} STOP
    static func stateDict(_ body: (inout PickleBytes) -> Void) -> [UInt8] {
        var pickle = PickleBytes()
        pickle.emptyDict()
        pickle.string("w")
        body(&pickle)
        pickle.setItem()
        pickle.stop()
        return pickle.bytes
    }
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

/// A minimal zip writer (STORED entries, CRC left zero: the reader ignores it), for packing hand-built
/// pickles the way torch.save lays them out.
enum TestZip {
    static func make(_ entries: [(name: String, data: [UInt8])], method: UInt16 = 0) -> Data {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for (name, data) in entries {
            let offset = UInt32(out.count), nameBytes = Array(name.utf8)
            out +=
                le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(method) + le(UInt32(0)) + le(UInt32(0))
                + le(UInt32(data.count)) + le(UInt32(data.count)) + le(UInt16(nameBytes.count)) + le(UInt16(0))
            out += nameBytes + data
            directory +=
                le(UInt32(0x0201_4B50)) + le(UInt16(20)) + le(UInt16(20)) + le(UInt16(0)) + le(method)
                + le(UInt32(0)) + le(UInt32(0)) + le(UInt32(data.count)) + le(UInt32(data.count))
                + le(UInt16(nameBytes.count)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0))
                + le(UInt32(0)) + le(offset) + nameBytes
        }
        let directoryOffset = UInt32(out.count)
        out += directory
        out +=
            le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(entries.count))
            + le(UInt16(entries.count)) + le(UInt32(directory.count)) + le(directoryOffset) + le(UInt16(0))
        return Data(out)
    }

    /// A torch-style archive: archive/data.pkl, archive/byteorder and the given storages.
    static func torch(pickle: [UInt8], storages: [String: [UInt8]] = [:], byteOrder: String = "little") -> Data {
        var entries: [(name: String, data: [UInt8])] = [
            ("archive/data.pkl", pickle),
            ("archive/byteorder", Array(byteOrder.utf8)),
        ]
        for key in storages.keys.sorted() { entries.append(("archive/data/\(key)", storages[key]!)) }
        entries.append(("archive/version", Array("3\n".utf8)))
        return make(entries)
    }
}
