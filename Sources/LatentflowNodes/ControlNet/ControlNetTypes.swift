import LatentflowGraph
import LatentflowModels
import LatentflowTensor

extension PortType {
    public static let controlNet: PortType = "CONTROL_NET"
}

/// ComfyUI's CONTROL_NET: a loaded ControlNet or T2I-Adapter.
public struct ControlNetValue: PortValue, MemoryFootprint {
    public static var portType: PortType { .controlNet }
    public let loaded: LoadedControlModel
    public var byteCount: Int { loaded.byteCount }

    public init(_ loaded: LoadedControlModel) { self.loaded = loaded }
}

/// One ControlNet applied to a conditioning entry, with the ones applied before it: ComfyUI's
/// `control` object after `set_cond_hint` and `set_previous_controlnet`. Shared, never changed.
public final class ControlApplication: Sendable {
    public let model: LoadedControlModel
    /// The hint `[B, C, H, W]` in 0...1 (the IMAGE, channels first).
    public let hint: Tensor
    public let strength: Double
    public let startPercent: Double, endPercent: Double
    public let previous: ControlApplication?

    public init(
        model: LoadedControlModel, hint: Tensor, strength: Double, startPercent: Double = 0, endPercent: Double = 1,
        previous: ControlApplication?
    ) {
        (self.model, self.hint, self.strength) = (model, hint, strength)
        (self.startPercent, self.endPercent, self.previous) = (startPercent, endPercent, previous)
    }

    /// The chain from the first applied to this one.
    var chain: [ControlApplication] {
        var links: [ControlApplication] = []
        var link: ControlApplication? = self
        while let current = link {
            links.insert(current, at: 0)
            link = current.previous
        }
        return links
    }

    var byteCount: Int { hint.count * 4 + (previous?.byteCount ?? 0) }
}

extension Conditioning {
    /// The negative side with the controls of `positive`'s `controlAppliesToUncond` entries, when
    /// none of its whole-latent entries has one: control k goes to whole-latent entry k mod n
    /// (a later one replacing an earlier one on the same entry, as ComfyUI copies from the
    /// original entry each time).
    ///
    /// Matches: ComfyUI `comfy/samplers.py` `apply_empty_x_to_equal_area` (for `control`).
    func withUncondControls(from positive: Conditioning) -> Conditioning {
        let controls = positive.entries.filter { $0.area == nil && $0.areaFraction == nil && $0.controlAppliesToUncond }
            .compactMap(\.control)
        let whole = entries.indices.filter { entries[$0].area == nil && entries[$0].areaFraction == nil }
        guard !controls.isEmpty, !whole.isEmpty, !whole.contains(where: { entries[$0].control != nil }) else {
            return self
        }
        var result = entries
        for (index, control) in controls.enumerated() { result[whole[index % whole.count]].control = control }
        return Conditioning(result)
    }
}
