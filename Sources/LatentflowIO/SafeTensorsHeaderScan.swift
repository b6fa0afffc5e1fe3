import Foundation

/// Checks JSONDecoder cannot make on a safetensors header, in one pass over its bytes before
/// decoding: a tensor key written twice (the decoder would keep one silently), and integers
/// too large for 64 bits (the decoder reports those as invalid JSON, without the tensor's
/// name). Malformed JSON is left to the decoder to report.
enum SafeTensorsHeaderScan {
    static func check(_ json: Data, file: String) throws {
        try json.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var depth = 0, index = 0
            var seen = Set<String>(), currentKey: String?
            var expectingKey = false
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    expectingKey = byte == UInt8(ascii: "{") && depth == 1
                    index += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    index += 1
                case UInt8(ascii: ","):
                    expectingKey = depth == 1
                    index += 1
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, from: index) else { return }
                    if expectingKey {
                        let key = decodedString(Data(bytes[index...end]))
                        guard seen.insert(key).inserted else {
                            throw SafeTensorsError.invalidEntry(
                                file: file, key: key, reason: "the key appears twice in the header")
                        }
                        currentKey = key
                        expectingKey = false
                    }
                    index = end + 1
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    var end = index
                    while end < bytes.count, isNumberByte(bytes[end]) { end += 1 }
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
                    let isInteger = !text.contains(where: { ".eE".contains($0) })
                    if isInteger, Int64(text) == nil, let key = currentKey, key != "__metadata__" {
                        throw SafeTensorsError.invalidEntry(
                            file: file, key: key, reason: "the number \(text) does not fit in a 64-bit integer")
                    }
                    index = end
                default:
                    index += 1
                }
            }
        }
    }

    /// The index of the closing quote of the string starting at `start`, skipping escapes.
    private static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "\"") { return index }
            index += 1
        }
        return nil
    }

    /// A JSON string literal's value (escapes resolved), or its raw text if it does not decode.
    private static func decodedString(_ literal: Data) -> String {
        (try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: literal, as: UTF8.self)
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }
}
