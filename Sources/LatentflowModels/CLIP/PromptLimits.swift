/// Bounds on a prompt, checked before it is tokenized. ComfyUI has none: a 10 MB prompt, or one
/// nested 100,000 parentheses deep, keeps its tokenizer busy for minutes and then overflows
/// Python's recursion limit (about 1,000 frames, one per nesting level of `token_weights`). The
/// bounds are far above any real prompt: ComfyUI users write a few 77-token chunks, and the
/// deepest emphasis seen in published workflows is a handful of levels.
public enum PromptLimits {
    /// Characters (about 25,000 tokens, 330 chunks of 77).
    public static let maximumLength = 100_000
    /// Levels of `( )` nesting (each multiplies the weight by 1.1 or sets it).
    public static let maximumNesting = 100

    /// Why `prompt` is refused, or nil. Linear in the prompt's length.
    public static func problem(_ prompt: String) -> String? {
        let length = prompt.unicodeScalars.count
        if length > maximumLength {
            return "the prompt is \(length) characters long; the limit is \(maximumLength)"
        }
        var depth = 0, deepest = 0, escaped = false
        for scalar in prompt.unicodeScalars {
            defer { escaped = scalar == "\\" && !escaped }
            guard !escaped else { continue }
            if scalar == "(" {
                depth += 1
                deepest = max(deepest, depth)
            } else if scalar == ")" {
                depth -= 1
            }
        }
        if deepest > maximumNesting {
            return "the prompt nests parentheses \(deepest) deep; the limit is \(maximumNesting)"
        }
        return nil
    }
}

public struct PromptLimitError: Error, CustomStringConvertible {
    public let description: String
}
