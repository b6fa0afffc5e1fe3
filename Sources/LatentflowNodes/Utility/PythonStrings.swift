import Foundation

/// Python's `str` semantics the string nodes need: indices count code points (not Swift's
/// grapheme clusters), slices clamp, and the case mappings are per code point.
enum PythonStrings {
    /// `s[start:end]`: negative indices count from the end; out-of-range bounds clamp.
    static func slice(_ s: String, _ start: Int, _ end: Int) -> String {
        let scalars = Array(s.unicodeScalars), n = scalars.count
        func clamp(_ i: Int) -> Int { i < 0 ? max(0, n + i) : min(i, n) }
        let (from, to) = (clamp(start), clamp(end))
        guard from < to else { return "" }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[from..<to])
        return String(view)
    }

    static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// `str.strip` / `lstrip` / `rstrip` with no argument: Unicode whitespace.
    static func strip(_ s: String, leading: Bool, trailing: Bool) -> String {
        var scalars = Array(s.unicodeScalars)
        let isSpace = { (c: Unicode.Scalar) in c.properties.isWhitespace || (0x1C...0x1F).contains(c.value) }
        if trailing { while let last = scalars.last, isSpace(last) { scalars.removeLast() } }
        if leading, let first = scalars.firstIndex(where: { !isSpace($0) }) {
            scalars.removeFirst(first)
        } else if leading {
            scalars.removeAll()
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.capitalize`: the first character title-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return String(first).uppercased() + s.dropFirst().lowercased()
    }

    /// `str.title`: every run of cased letters starts upper-cased, the rest of it lower-cased; a
    /// letter after any non-letter (digits and apostrophes included) starts a new word.
    static func title(_ s: String) -> String {
        var result = "", previousCased = false
        for character in s {
            let cased = character.isLetter
            result += cased ? (previousCased ? character.lowercased() : character.uppercased()) : String(character)
            previousCased = cased
        }
        return result
    }

    /// A Python `re` pattern in ICU's syntax: named groups `(?P<name>…)` and back-references
    /// `(?P=name)` are spelled differently; the rest of what prompts use is common to both.
    static func icuPattern(_ pattern: String) -> String {
        pattern.replacingOccurrences(of: "(?P<", with: "(?<")
            .replacingOccurrences(of: #"\(\?P=(\w+)\)"#, with: #"\\k<$1>"#, options: .regularExpression)
    }

    /// The group number of each named group of a pattern, counting capture groups in order as
    /// Python does (not `(?:`, look-arounds or other `(?` forms; escaped and bracketed `(` neither).
    static func groupNumbers(_ pattern: String) -> [String: Int] {
        var numbers: [String: Int] = [:], count = 0, inClass = false
        let characters = Array(pattern)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c == "\\" {
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
            } else if c == "(" {
                let rest = String(characters[(i + 1)...])
                if !rest.hasPrefix("?") {
                    count += 1
                } else if rest.hasPrefix("?P<")
                    || (rest.hasPrefix("?<") && !rest.hasPrefix("?<=") && !rest.hasPrefix("?<!"))
                {
                    count += 1
                    let start = rest.hasPrefix("?P<") ? 3 : 2
                    if let close = rest.firstIndex(of: ">") {
                        numbers[String(rest[rest.index(rest.startIndex, offsetBy: start)..<close])] = count
                    }
                }
            }
            i += 1
        }
        return numbers
    }

    /// A Python `re.sub` replacement (`\1`, `\g<1>`, `\g<name>`, `\n`, `\\`) as an ICU template
    /// (`$1`; names become their group numbers; a literal `$` escaped).
    static func icuTemplate(_ replacement: String, groups: [String: Int] = [:]) -> String {
        var out = "", characters = Array(replacement), i = 0
        while i < characters.count {
            let c = characters[i]
            if c == "$" {
                out += "\\$"
            } else if c == "\\", i + 1 < characters.count {
                let next = characters[i + 1]
                if next.isNumber {
                    var digits = String(next)
                    if i + 2 < characters.count, characters[i + 2].isNumber {
                        digits.append(characters[i + 2])
                        i += 1
                    }
                    out += "$" + digits
                } else if next == "g", i + 2 < characters.count, characters[i + 2] == "<",
                    let close = characters[(i + 3)...].firstIndex(of: ">")
                {
                    let name = String(characters[(i + 3)..<close])
                    out += "$" + (Int(name).map(String.init) ?? groups[name].map(String.init) ?? "0")
                    i = close - 1
                } else if next == "n" {
                    out += "\n"
                } else if next == "t" {
                    out += "\t"
                } else if next == "\\" {
                    out += "\\\\"
                } else {
                    out += "\\\\" + String(next)
                }
                i += 1
            } else {
                out.append(c)
            }
            i += 1
        }
        return out
    }

    static func regex(_ pattern: String, ignoreCase: Bool, multiline: Bool, dotAll: Bool) throws
        -> NSRegularExpression
    {
        var options: NSRegularExpression.Options = []
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        if dotAll { options.insert(.dotMatchesLineSeparators) }
        return try NSRegularExpression(pattern: icuPattern(pattern), options: options)
    }
}
