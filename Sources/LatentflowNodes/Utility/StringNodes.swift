import Foundation
import LatentflowGraph

// ComfyUI's `comfy_extras/nodes_string.py` (category utils/string), with Python's string semantics
// (PythonStrings) and its `re` module's, through ICU's regular expressions.

private func text(_ name: String) -> Input<String> { Input.string(name, multiline: true).withoutDefault }

public struct StringConcatenate: Node {
    static let a = text("string_a"), b = text("string_b")
    static let delimiter = Input.string("delimiter", default: "")

    public static let schema = NodeSchema(
        "StringConcatenate", displayName: "Concatenate", category: "utils/string",
        inputs: [a, b, delimiter], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.a] + inputs[Self.delimiter] + inputs[Self.b])
    }
}

public struct StringSubstring: Node {
    static let string = text("string")
    static let start = Input.int("start", default: 0).withoutDefault
    static let end = Input.int("end", default: 0).withoutDefault

    public static let schema = NodeSchema(
        "StringSubstring", displayName: "Substring", category: "utils/string",
        inputs: [string, start, end], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(PythonStrings.slice(try inputs[Self.string], try inputs[Self.start], try inputs[Self.end]))
    }
}

public struct StringLength: Node {
    static let string = text("string")

    public static let schema = NodeSchema(
        "StringLength", displayName: "Length", category: "utils/string",
        inputs: [string], outputs: outputs(Output<Int>("length")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(PythonStrings.length(try inputs[Self.string]))
    }
}

public struct CaseConverter: Node {
    static let string = text("string")
    static let mode = Input.combo("mode", options: ["UPPERCASE", "lowercase", "Capitalize", "Title Case"])

    public static let schema = NodeSchema(
        "CaseConverter", displayName: "Case Converter", category: "utils/string",
        inputs: [string, mode], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let string = try inputs[Self.string]
        switch try inputs[Self.mode] {
        case "UPPERCASE": return NodeOutputs(string.uppercased())
        case "lowercase": return NodeOutputs(string.lowercased())
        case "Capitalize": return NodeOutputs(PythonStrings.capitalize(string))
        case "Title Case": return NodeOutputs(PythonStrings.title(string))
        default: return NodeOutputs(string)
        }
    }
}

public struct StringTrim: Node {
    static let string = text("string")
    static let mode = Input.combo("mode", options: ["Both", "Left", "Right"])

    public static let schema = NodeSchema(
        "StringTrim", displayName: "Trim", category: "utils/string",
        inputs: [string, mode], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let mode = try inputs[Self.mode]
        return NodeOutputs(
            PythonStrings.strip(try inputs[Self.string], leading: mode != "Right", trailing: mode != "Left"))
    }
}

public struct StringReplace: Node {
    static let string = text("string"), find = text("find"), replace = text("replace")

    public static let schema = NodeSchema(
        "StringReplace", displayName: "Replace", category: "utils/string",
        inputs: [string, find, replace], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (string, find, replace) = (try inputs[Self.string], try inputs[Self.find], try inputs[Self.replace])
        // Python inserts the replacement between every code point when `find` is empty.
        if find.isEmpty {
            let pieces = string.unicodeScalars.map { String($0) }
            return NodeOutputs(replace + pieces.joined(separator: replace) + (pieces.isEmpty ? "" : replace))
        }
        return NodeOutputs(string.replacingOccurrences(of: find, with: replace, options: .literal))
    }
}

public struct StringContains: Node {
    static let string = text("string"), substring = text("substring")
    static let caseSensitive = Input.boolean("case_sensitive", default: true)

    public static let schema = NodeSchema(
        "StringContains", displayName: "Contains", category: "utils/string",
        inputs: [string, substring, caseSensitive], outputs: outputs(Output<Bool>("contains")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var (string, substring) = (try inputs[Self.string], try inputs[Self.substring])
        if !(try inputs[Self.caseSensitive]) { (string, substring) = (string.lowercased(), substring.lowercased()) }
        return NodeOutputs(substring.isEmpty || string.range(of: substring, options: .literal) != nil)
    }
}

public struct StringCompare: Node {
    static let a = text("string_a"), b = text("string_b")
    static let mode = Input.combo("mode", options: ["Starts With", "Ends With", "Equal"])
    static let caseSensitive = Input.boolean("case_sensitive", default: true)

    public static let schema = NodeSchema(
        "StringCompare", displayName: "Compare", category: "utils/string",
        inputs: [a, b, mode, caseSensitive], outputs: outputs(Output<Bool>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var (first, second) = (try inputs[Self.a], try inputs[Self.b])
        if !(try inputs[Self.caseSensitive]) { (first, second) = (first.lowercased(), second.lowercased()) }
        let (a, b) = (Array(first.unicodeScalars), Array(second.unicodeScalars))
        switch try inputs[Self.mode] {
        case "Starts With": return NodeOutputs(a.starts(with: b))
        case "Ends With": return NodeOutputs(a.reversed().starts(with: b.reversed()))
        default: return NodeOutputs(a == b)
        }
    }
}

/// The flags every regex node takes.
private struct RegexFlags {
    static let caseInsensitive = Input.boolean("case_insensitive", default: true)
    static let multiline = Input.boolean("multiline", default: false)
    static let dotall = Input.boolean("dotall", default: false)

    static func compile(_ pattern: String, _ inputs: NodeInputs) throws -> NSRegularExpression {
        try PythonStrings.regex(
            pattern, ignoreCase: (try inputs.optional(caseInsensitive)) ?? true,
            multiline: (try inputs.optional(multiline)) ?? false, dotAll: (try inputs.optional(dotall)) ?? false)
    }
}

private func substring(_ string: String, _ range: NSRange) -> String {
    range.location == NSNotFound ? "" : (string as NSString).substring(with: range)
}

public struct RegexMatch: Node {
    static let string = text("string"), pattern = text("regex_pattern")

    public static let schema = NodeSchema(
        "RegexMatch", displayName: "Regex Match", category: "utils/string",
        inputs: [string, pattern, RegexFlags.caseInsensitive, RegexFlags.multiline, RegexFlags.dotall],
        outputs: outputs(Output<Bool>("matches")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let string = try inputs[Self.string]
        // An invalid pattern does not match (ComfyUI catches re.error).
        guard let regex = try? RegexFlags.compile(try inputs[Self.pattern], inputs) else { return NodeOutputs(false) }
        return NodeOutputs(regex.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil)
    }
}

public struct RegexExtract: Node {
    static let string = text("string"), pattern = text("regex_pattern")
    static let mode = Input.combo("mode", options: ["First Match", "All Matches", "First Group", "All Groups"])
    static let groupIndex = Input.int("group_index", default: 1, min: 0, max: 100)

    public static let schema = NodeSchema(
        "RegexExtract", displayName: "Regex Extract", category: "utils/string",
        inputs: [
            string, pattern, mode, RegexFlags.caseInsensitive, RegexFlags.multiline, RegexFlags.dotall, groupIndex,
        ], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let string = try inputs[Self.string], group = try inputs[Self.groupIndex]
        guard let regex = try? RegexFlags.compile(try inputs[Self.pattern], inputs) else { return NodeOutputs("") }
        let all = NSRange(string.startIndex..., in: string)
        let groups = regex.numberOfCaptureGroups
        switch try inputs[Self.mode] {
        case "First Match":
            return NodeOutputs(regex.firstMatch(in: string, range: all).map { substring(string, $0.range) } ?? "")
        case "All Matches":
            // re.findall gives the first group when the pattern has groups, else the whole match.
            let matches = regex.matches(in: string, range: all)
            return NodeOutputs(
                matches.map { substring(string, $0.range(at: groups > 0 ? 1 : 0)) }.joined(separator: "\n"))
        case "First Group":
            guard let match = regex.firstMatch(in: string, range: all), groups >= group else { return NodeOutputs("") }
            return NodeOutputs(substring(string, match.range(at: group)))
        case "All Groups":
            guard groups > 0, groups >= group else { return NodeOutputs("") }
            let matches = regex.matches(in: string, range: all)
            return NodeOutputs(matches.map { substring(string, $0.range(at: group)) }.joined(separator: "\n"))
        default:
            return NodeOutputs("")
        }
    }
}

public struct RegexReplace: Node {
    static let string = text("string"), pattern = text("regex_pattern"), replace = text("replace")
    static let count = Input.int("count", default: 0, min: 0, max: 100).optional

    public static let schema = NodeSchema(
        "RegexReplace", displayName: "Regex Replace", category: "utils/string",
        description: "Find and replace text using regex patterns.",
        inputs: [
            string, pattern, replace, RegexFlags.caseInsensitive.optional, RegexFlags.multiline.optional,
            RegexFlags.dotall.optional, count,
        ], outputs: outputs(Output<String>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let string = try inputs[Self.string], pattern = try inputs[Self.pattern]
        let regex: NSRegularExpression
        do {
            regex = try RegexFlags.compile(pattern, inputs)
        } catch {
            throw NodeError("regex_pattern '\(pattern)' is not a valid regular expression")
        }
        let template = PythonStrings.icuTemplate(try inputs[Self.replace], groups: PythonStrings.groupNumbers(pattern))
        var matches = regex.matches(in: string, range: NSRange(string.startIndex..., in: string))
        if let limit = try inputs.optional(Self.count), limit > 0 { matches = Array(matches.prefix(limit)) }
        let result = NSMutableString(string: string)
        for match in matches.reversed() {
            let replacement = regex.replacementString(for: match, in: string, offset: 0, template: template)
            result.replaceCharacters(in: match.range, with: replacement)
        }
        return NodeOutputs(result as String)
    }
}
