/// A sampling failure with its message as users see it (an unknown or unimplemented sampler,
/// a schedule that cannot be built).
public struct SamplingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
