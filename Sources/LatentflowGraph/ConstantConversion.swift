import Foundation

/// ComfyUI's constant coercions (`execution.py` `validate_inputs`): `int(v)`, `float(v)`,
/// `str(v)`, `bool(v)` by declared type; other types pass through unchanged.
enum ConstantConversion {
    static func convert(_ json: JSONValue, to type: PortType) -> (any Sendable)? {
        switch type {
        case .int:
            switch json {
            case .int(let v): return Int(exactly: v)
            case .double(let v):
                return v.isFinite ? Int(exactly: v.rounded(.towardZero)) ?? SixtyFourBitRange.seedBits(json) : nil
            case .bool(let b): return b ? 1 : 0
            case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces)) ?? SixtyFourBitRange.seedBits(json)
            // Reached only for inputs that take values up to 2^64 − 1 (the validator refuses it elsewhere).
            case .uint: return SixtyFourBitRange.seedBits(json)
            default: return nil
            }
        case .float:
            switch json {
            case .int(let v): return Double(v)
            case .uint(let v): return Double(v)
            case .double(let v): return v
            case .bool(let b): return b ? 1.0 : 0.0
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        case .string:
            switch json {
            case .string(let s): return s
            case .int(let v): return String(v)
            case .uint(let v): return String(v)
            case .double(let v): return JSONValue.pythonFloat(v)
            case .bool(let b): return b ? "True" : "False"
            case .null: return "None"
            default: return json.serialized()
            }
        case .boolean:
            switch json {
            case .bool(let b): return b
            case .int(let v): return v != 0
            case .uint: return true
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
        case .uint(let v): return Double(v)
        case .double(let v): return v
        case .string(let s): return s
        case .bool(let b): return b
        default: return json
        }
    }
}

/// INT constants past Int64. ComfyUI's Python ints are unbounded; ours are 64-bit, so values
/// beyond are refused by name rather than wrapped or reported as a failed conversion. Seeds are the
/// exception: ComfyUI takes them up to 2^64 − 1 and torch's `manual_seed` reads such a value as its
/// 64 bits, so a seed input (`InputSpec.takesUnsigned64`) receives those same bits in an Int.
enum SixtyFourBitRange {
    static let maxText = String(Int64.max)
    static let minText = String(Int64.min)

    /// The value as an unsigned 64-bit integer when it is one past Int64.max (exactly), else nil.
    static func unsigned(_ json: JSONValue) -> UInt64? {
        switch json {
        case .uint(let v): return v
        case .double(let v): return v >= 9_223_372_036_854_775_808.0 ? UInt64(exactly: v) : nil
        case .string(let s):
            let value = UInt64(s.trimmingCharacters(in: .whitespaces))
            return value.map { $0 > UInt64(Int64.max) } == true ? value : nil
        default: return nil
        }
    }

    /// A seed past Int64.max as the Int with its bits (`UInt64(bitPattern:)` gives it back).
    static func seedBits(_ json: JSONValue) -> Int? {
        unsigned(json).map { Int(Int64(bitPattern: $0)) }
    }

    /// +1 when the value is an integer past Int64.max, −1 when below Int64.min, nil otherwise.
    static func overflow(_ json: JSONValue) -> Int? {
        switch json {
        case .uint: return 1
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
