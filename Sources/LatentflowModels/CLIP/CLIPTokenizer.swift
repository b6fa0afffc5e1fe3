import Foundation

/// CLIP's byte-level BPE tokenizer (ViT-L/14, 49408 tokens), with ComfyUI's prompt syntax.
///
/// Matches: Hugging Face `CLIPTokenizer` without ftfy (as ComfyUI runs it: `BasicTokenizer`
/// clean-up, lower case, the CLIP regex, BPE with `</w>`), and ComfyUI `comfy/sd1_clip.py`
/// `SDTokenizer.tokenize_with_weights` for weights and 77-token chunks.
public final class CLIPTokenizer: @unchecked Sendable {
    public static let startToken = 49406
    public static let endToken = 49407
    public static let chunkLength = 77

    private let encoder: [String: Int]
    private let ranks: [String: Int]
    /// Byte → printable character, indexed by byte.
    private let byteTable: [Character]
    private let pattern: NSRegularExpression
    private var cache: [String: [Int]] = [:]
    private let lock = NSLock()

    public static let shared: CLIPTokenizer = try! CLIPTokenizer()

    public init() throws {
        guard let url = Bundle.module.url(forResource: "merges", withExtension: "txt", subdirectory: "Resources") else {
            throw ModelLoadError.unrecognized(
                file: "merges.txt", reason: "the CLIP merges resource is missing from the bundle")
        }
        let merges = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
        let byteMap = Self.bytesToUnicode()
        var table = [Character](repeating: " ", count: 256)
        for (byte, character) in byteMap { table[byte] = character }
        byteTable = table
        // OpenAI's vocabulary order: bytes, bytes + </w>, one token per merge, then the specials.
        var vocabulary = byteMap.map { String($0.character) }
        vocabulary += vocabulary.map { $0 + "</w>" }
        vocabulary += merges.map { $0.replacingOccurrences(of: " ", with: "") }
        vocabulary += ["<|startoftext|>", "<|endoftext|>"]
        encoder = Dictionary(
            vocabulary.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        ranks = Dictionary(merges.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        pattern = try NSRegularExpression(
            pattern: #"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"#,
            options: [.caseInsensitive])
    }

    /// GPT-2's reversible map from bytes to printable characters, as (byte, character) pairs in
    /// vocabulary order: the printable bytes first, then the rest mapped above U+0100.
    static func bytesToUnicode() -> [(byte: Int, character: Character)] {
        var bytes = Array(33...126) + Array(161...172) + Array(174...255)
        var codes = bytes
        var n = 0
        for b in 0..<256 where !bytes.contains(b) {
            bytes.append(b)
            codes.append(256 + n)
            n += 1
        }
        return zip(bytes, codes).map { ($0, Character(Unicode.Scalar(UInt32($1))!)) }
    }

    /// Token ids of a text, without start and end tokens.
    public func encode(_ text: String) -> [Int] {
        let cleaned = Self.basicClean(text)
        let range = NSRange(cleaned.startIndex..., in: cleaned)
        var ids: [Int] = []
        for match in pattern.matches(in: cleaned, range: range) {
            guard let r = Range(match.range, in: cleaned) else { continue }
            let word = String(String(cleaned[r]).utf8.map { byteTable[Int($0)] })
            ids += bpe(word)
        }
        return ids
    }

    /// The clean-up ComfyUI's tokenizer applies: drop control characters, unify whitespace, NFC,
    /// lower-case, collapse whitespace. (CJK ideographs stay together: ComfyUI's reference output
    /// tokenizes "東京" as one word.)
    static func basicClean(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD { continue }
            if scalar == "\t" || scalar == "\n" || scalar == "\r"
                || scalar.properties.generalCategory == .spaceSeparator
            {
                out.append(" ")
                continue
            }
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse, .surrogate, .unassigned: continue
            default: break
            }
            out.unicodeScalars.append(scalar)
        }
        let normalized = out.precomposedStringWithCanonicalMapping
        return normalized.split(whereSeparator: { $0 == " " }).map { $0.lowercased() }.joined(separator: " ")
    }

    /// Byte-pair merges on one pre-tokenized word, lowest rank first.
    private func bpe(_ word: String) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[word] { return cached }
        var parts = word.map(String.init)
        guard !parts.isEmpty else { return [] }
        parts[parts.count - 1] += "</w>"
        while parts.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0..<(parts.count - 1) {
                if let rank = ranks[parts[i] + " " + parts[i + 1]], rank < (best?.rank ?? .max) { best = (rank, i) }
            }
            guard let best else { break }
            let first = parts[best.index], second = parts[best.index + 1]
            var merged: [String] = []
            var i = 0
            while i < parts.count {
                if i < parts.count - 1 && parts[i] == first && parts[i + 1] == second {
                    merged.append(first + second)
                    i += 2
                } else {
                    merged.append(parts[i])
                    i += 1
                }
            }
            parts = merged
        }
        let ids = parts.map { encoder[$0] ?? Self.endToken }
        cache[word] = ids
        return ids
    }
}
