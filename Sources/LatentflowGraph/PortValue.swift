/// A Swift type that travels through ports of one ComfyUI type.
public protocol PortValue: Sendable {
    static var portType: PortType { get }
}

extension Int: PortValue { public static var portType: PortType { .int } }
extension Double: PortValue { public static var portType: PortType { .float } }
extension String: PortValue { public static var portType: PortType { .string } }
extension Bool: PortValue { public static var portType: PortType { .boolean } }

/// What a node's value reports about its size, so the output cache can keep to a budget.
public protocol MemoryFootprint {
    var byteCount: Int { get }
}

/// An integer bound stored as a Double, printed as an integer (bounds up to Int.max included, and
/// a seed's 2^64 − 1, whose nearest Double is 2^64).
func integerText(_ value: Double) -> String {
    if value >= Double(UInt64.max) { return String(UInt64.max) }
    if value >= Double(Int.max) { return String(Int.max) }
    if value <= Double(Int.min) { return String(Int.min) }
    return String(Int(value))
}
