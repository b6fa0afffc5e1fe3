import LatentflowTensor

/// What a ControlNet or T2I-Adapter adds to a UNet forward, ComfyUI's `control` dict: `input`
/// after each input block, `middle` after the middle block, `output` onto each skip connection
/// as the output blocks take it. Each list is consumed from its end, one entry per place (nil:
/// nothing added there).
///
/// Matches: ComfyUI `comfy/ldm/modules/diffusionmodules/openaimodel.py` `apply_control`, and
/// `comfy/controlnet.py` `ControlBase.control_merge` (strength, global average pooling, chaining).
public struct ControlResiduals: Sendable {
    public var input: [Tensor?]
    public var middle: [Tensor?]
    public var output: [Tensor?]

    public init(input: [Tensor?] = [], middle: [Tensor?] = [], output: [Tensor?] = []) {
        (self.input, self.middle, self.output) = (input, middle, output)
    }

    /// Every residual times `strength`; with `globalAveragePooling` each is first replaced by its
    /// per-channel spatial mean (shuffle ControlNets).
    public func scaled(by strength: Float, globalAveragePooling: Bool = false) -> ControlResiduals {
        func scale(_ list: [Tensor?]) -> [Tensor?] {
            list.map { residual in
                residual.map { (globalAveragePooling ? $0.spatialMeanBroadcast() : $0).scaled(by: strength) }
            }
        }
        return ControlResiduals(input: scale(input), middle: scale(middle), output: scale(output))
    }

    /// These residuals added onto an earlier control's, entry by entry (`control_merge` with
    /// `control_prev`): a place only one of them fills keeps that one.
    public func merged(onto previous: ControlResiduals) throws -> ControlResiduals {
        func merge(_ own: [Tensor?], _ prev: [Tensor?]) throws -> [Tensor?] {
            var out = own
            for (i, p) in prev.enumerated() {
                if i >= out.count {
                    out.append(p)
                } else if let p {
                    out[i] = try out[i].map { try p.adding($0) } ?? p
                }
            }
            return out
        }
        return ControlResiduals(
            input: try merge(input, previous.input), middle: try merge(middle, previous.middle),
            output: try merge(output, previous.output))
    }
}

/// The UNet forward's view of `ControlResiduals`: pops the next residual of a kind and adds it.
/// A residual whose shape does not fit is skipped and reported, as ComfyUI's `apply_control`
/// warns and goes on.
struct ControlCursor {
    private var residuals: ControlResiduals
    private let mismatch: ((String) -> Void)?

    init(_ residuals: ControlResiduals?, mismatch: ((String) -> Void)?) {
        self.residuals = residuals ?? ControlResiduals()
        self.mismatch = mismatch
    }

    mutating func applyInput(_ h: Tensor) throws -> Tensor {
        let report = mismatch
        return try Self.apply(h, &residuals.input, "input", report)
    }
    mutating func applyMiddle(_ h: Tensor) throws -> Tensor {
        let report = mismatch
        return try Self.apply(h, &residuals.middle, "middle", report)
    }
    mutating func applyOutput(_ h: Tensor) throws -> Tensor {
        let report = mismatch
        return try Self.apply(h, &residuals.output, "output", report)
    }

    private static func apply(
        _ h: Tensor, _ list: inout [Tensor?], _ name: String, _ mismatch: ((String) -> Void)?
    ) throws -> Tensor {
        guard let last = list.popLast(), let residual = last else { return h }
        guard residual.shape == h.shape else {
            mismatch?("control \(name) residual of shape \(residual.shape) does not fit features \(h.shape); skipped")
            return h
        }
        return try h.adding(residual)
    }
}

extension Tensor {
    /// `[N, C, H, W]` with every value replaced by its channel's spatial mean.
    func spatialMeanBroadcast() -> Tensor {
        guard rank == 4 else { return self }
        let plane = shape[2] * shape[3]
        guard plane > 0 else { return self }
        var out = self
        out.withUnsafeMutableBufferPointer { values in
            for start in stride(from: 0, to: values.count, by: plane) {
                var sum: Float = 0
                for i in start..<start + plane { sum += values[i] }
                let mean = sum / Float(plane)
                for i in start..<start + plane { values[i] = mean }
            }
        }
        return out
    }

    /// ReLU, elementwise.
    func relu() -> Tensor {
        var out = self
        out.withUnsafeMutableBufferPointer { values in
            for i in values.indices where values[i] < 0 { values[i] = 0 }
        }
        return out
    }
}
