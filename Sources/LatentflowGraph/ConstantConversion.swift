import Foundation

/// ComfyUI's constant coercions (`execution.py` `validate_inputs`): `int(v)`, `float(v)`,
/// `str(v)`, `bool(v)` by declared type; other types pass through unchanged.
enum ConstantConversion {
    static func convert(_ json: JSONValue, to type: PortType) -> (any Sendable)? {
        switch type {
        case .int:
            switch json {
            case .int(let v): return Int(exactly: v)
            case .double(let v): return v.isFinite ? Int(exactly: v.rounded(.towardZero)) : nil
            case .bool(let b): return b ? 1 : 0
            case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        case .float:
            switch json {
            case .int(let v): return Double(v)
            case .double(let v): return v
            case .bool(let b): return b ? 1.0 : 0.0
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        case .string:
            switch json {
            case .string(let s): return s
            case .int(let v): return String(v)
            case .double(let v): return JSONValue.pythonFloat(v)
            case .bool(let b): return b ? "True" : "False"
            case .null: return "None"
            default: return json.serialized()
            }
        case .boolean:
            switch json {
            case .bool(let b): return b
            case .int(let v): return v != 0
            case .double(let v): return v != 0
            case .string(let s): return !s.isEmpty
            case .null: return false
            case .array(let a): return !a.isEmpty
            case .object(let o): return !o.isEmpty
            }
        case .combo:
            return json.stringValue
        default:
            return natural(json)
        }
    }

    /// A JSON constant as the plain Swift value a node would expect.
    static func natural(_ json: JSONValue) -> any Sendable {
        switch json {
        case .int(let v): return Int(exactly: v) ?? Double(v)
        case .double(let v): return v
        case .string(let s): return s
        case .bool(let b): return b
        default: return json
        }
    }
}

/// INT constants Latentflow cannot hold. ComfyUI's Python ints are unbounded (seeds go up to
/// 2^64 − 1); ours are 64-bit, so larger values are refused by name rather than wrapped or
/// reported as a failed conversion.
enum SixtyFourBitRange {
    static let maxText = String(Int64.max)
    static let minText = String(Int64.min)

    /// +1 when the value is an integer past Int64.max, −1 when below Int64.min, nil otherwise.
    static func overflow(_ json: JSONValue) -> Int? {
        switch json {
        case .double(let v) where v.isFinite:
            if v >= 9_223_372_036_854_775_808.0 { return 1 }
            if v < -9_223_372_036_854_775_808.0 { return -1 }
            return nil
        case .string(let s):
            let text = s.trimmingCharacters(in: .whitespaces)
            let digits = text.drop { $0 == "+" || $0 == "-" }
            guard text.count - digits.count <= 1, !digits.isEmpty, digits.allSatisfy(\.isASCII),
                digits.allSatisfy(\.isNumber), Int(text) == nil
            else { return nil }
            return text.hasPrefix("-") ? -1 : 1
        default:
            return nil
        }
    }
}
