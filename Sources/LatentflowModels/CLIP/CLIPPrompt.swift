import Foundation
import LatentflowTensor

/// One token position of a prompt: the id (or, for a textual-inversion embedding, the vector that
/// replaces the token embedding) and the weight `(text:1.2)` gave it.
public struct WeightedToken: Sendable, Equatable {
    public var id: Int
    public var weight: Double
    public var embedding: [Float]? = nil

    public init(id: Int, weight: Double, embedding: [Float]? = nil) {
        (self.id, self.weight, self.embedding) = (id, weight, embedding)
    }
}

/// Finds `embedding:NAME` vectors: `[vectors, width]`, or nil when there is no such embedding.
public typealias EmbeddingLookup = (_ name: String) -> Tensor?

extension CLIPTokenizer {
    /// ComfyUI's `tokenize_with_weights`: weighted segments from `( )` groups, each tokenized on
    /// its own, packed into chunks of BOS + 75 + EOS, padded with `padToken` (EOS for SD1's CLIP,
    /// 0 for SD2's OpenCLIP). A group of 8 or more tokens
    /// splits at a chunk boundary; a shorter one that does not fit moves whole to the next chunk.
    /// - Parameters:
    ///   - embeddings: resolves `embedding:NAME`; each vector takes one token slot. Without it
    ///     (or for a name it does not know) the reference is dropped, as ComfyUI does, and
    ///     reported through `missing`.
    public func tokenizeWithWeights(
        _ prompt: String, padToken: Int = CLIPTokenizer.endToken, embeddings: EmbeddingLookup? = nil,
        missing: ((String) -> Void)? = nil
    ) -> [[WeightedToken]] {
        let escaped = prompt.replacingOccurrences(of: "\\)", with: "\u{0}\u{1}").replacingOccurrences(
            of: "\\(", with: "\u{0}\u{2}")
        var groups: [[WeightedToken]] = []
        let identifier = "embedding:"
        for (segment, weight) in Self.tokenWeights(escaped, 1.0) {
            let text = segment.replacingOccurrences(of: "\u{0}\u{1}", with: ")").replacingOccurrences(
                of: "\u{0}\u{2}", with: "(")
            // ComfyUI splits on " embedding:" / "\nembedding:" and tokenizes each piece on its own.
            let spaced: [String] = text.components(separatedBy: " " + identifier)
            var pieces: [String] = spaced.flatMap { (piece: String) -> [String] in
                piece.components(separatedBy: "\n" + identifier)
            }
            for i in pieces.indices.dropFirst() { pieces[i] = identifier + pieces[i] }
            for var word in pieces where !word.isEmpty {
                if word.hasPrefix(identifier), let embeddings {
                    let rest = word.dropFirst(identifier.count).trimmingCharacters(in: .newlines)
                    let parts = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    var name = parts.first ?? ""
                    var leftover = parts.dropFirst().joined(separator: " ")
                    var vectors = embeddings(name)
                    if vectors == nil {
                        let stripped = name.trimmingCharacters(in: CharacterSet(charactersIn: ","))
                        if stripped.count < name.count {
                            vectors = embeddings(stripped)
                            leftover = String(name.dropFirst(stripped.count)) + " " + leftover
                            name = stripped
                        }
                    }
                    if let vectors {
                        let width = vectors.dim(-1), rows = vectors.count / max(1, width)
                        groups.append(
                            (0..<rows).map { r in
                                WeightedToken(
                                    id: Self.endToken, weight: weight,
                                    embedding: Array(vectors.scalars[(r * width)..<((r + 1) * width)]))
                            })
                    } else {
                        missing?(name)
                    }
                    if leftover.isEmpty { continue }
                    word = leftover
                }
                let ids = encode(word)
                groups.append(ids.map { WeightedToken(id: $0, weight: weight) })
            }
        }
        let limit = Self.chunkLength, maxWordLength = 8
        let start = WeightedToken(id: Self.startToken, weight: 1), end = WeightedToken(id: Self.endToken, weight: 1)
        let pad = WeightedToken(id: padToken, weight: 1)
        var chunks: [[WeightedToken]] = []
        var chunk = [start]
        for var group in groups {
            let isLarge = group.count >= maxWordLength
            while !group.isEmpty {
                if group.count + chunk.count > limit - 1 {
                    let remaining = limit - chunk.count - 1
                    if isLarge {
                        chunk += group.prefix(remaining)
                        chunk.append(end)
                        group.removeFirst(remaining)
                    } else {
                        chunk.append(end)
                        chunk += Array(repeating: pad, count: remaining)
                    }
                    chunks.append(chunk)
                    chunk = [start]
                } else {
                    chunk += group
                    group = []
                }
            }
        }
        chunk.append(end)
        chunk += Array(repeating: pad, count: limit - chunk.count)
        chunks.append(chunk)
        return chunks
    }

    /// ComfyUI's `token_weights`: top-level parenthesised groups multiply the weight by 1.1, or
    /// set it with a trailing `:number`; groups nest.
    static func tokenWeights(_ text: String, _ current: Double) -> [(String, Double)] {
        var out: [(String, Double)] = []
        for part in parseParentheses(text) {
            if part.count >= 2 && part.first == "(" && part.last == ")" {
                var inner = String(part.dropFirst().dropLast())
                var weight = current * 1.1
                if let colon = inner.lastIndex(of: ":"), colon > inner.startIndex,
                    let value = Double(inner[inner.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                {
                    weight = value
                    inner = String(inner[..<colon])
                }
                out += tokenWeights(inner, weight)
            } else {
                out.append((part, current))
            }
        }
        return out
    }

    static func parseParentheses(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" {
                if depth == 0 {
                    if !current.isEmpty { result.append(current) }
                    current = "("
                } else {
                    current.append(character)
                }
                depth += 1
            } else if character == ")" {
                depth -= 1
                if depth == 0 {
                    result.append(current + ")")
                    current = ""
                } else {
                    current.append(character)
                }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
