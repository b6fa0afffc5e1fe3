import Foundation

/// The type of a port, by its ComfyUI name. Open: a third-party package can use any name
/// (`PortType("UPSCALE_MODEL")`), as ComfyUI's `io.Custom(...)` does.
public struct PortType: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }
    public init(stringLiteral name: String) { self.name = name }

    public var description: String { name }

    public static let model: PortType = "MODEL"
    public static let clip: PortType = "CLIP"
    public static let vae: PortType = "VAE"
    public static let conditioning: PortType = "CONDITIONING"
    public static let latent: PortType = "LATENT"
    public static let image: PortType = "IMAGE"
    public static let mask: PortType = "MASK"
    public static let sampler: PortType = "SAMPLER"
    public static let sigmas: PortType = "SIGMAS"
    public static let noise: PortType = "NOISE"
    public static let guider: PortType = "GUIDER"
    public static let int: PortType = "INT"
    public static let float: PortType = "FLOAT"
    public static let string: PortType = "STRING"
    public static let boolean: PortType = "BOOLEAN"
    public static let combo: PortType = "COMBO"
    /// Accepts (or can be) any type.
    public static let any: PortType = "*"

    /// Widget types take constants in a workflow; the rest are sockets fed by links.
    public var isWidget: Bool { [.int, .float, .string, .boolean, .combo].contains(self) }

    /// ComfyUI's link rule (`comfy_execution/validation.py`): equal names match, `*` matches
    /// anything, and comma-separated unions match when they share a member.
    public func accepts(_ received: PortType) -> Bool {
        if self == received || self == .any || received == .any { return true }
        let mine = Set(name.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let theirs = Set(received.name.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        return !mine.isDisjoint(with: theirs)
    }
}
