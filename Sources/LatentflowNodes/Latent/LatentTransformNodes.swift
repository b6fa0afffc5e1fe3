import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// ComfyUI's pixel inputs on latent nodes are in image pixels; `// 8` makes them latent pixels.
private func latentPixels(_ pixels: Int) -> Int { LatentFormat.sd15.latentLength(forPixels: pixels) }

/// `samples2` brought to `samples1`'s size (bilinear, center crop) and batch (repeated or cut),
/// as ComfyUI's `reshape_latent_to`.
private func reshapeLatent(_ latent: Tensor, to target: [Int]) throws -> Tensor {
    var latent = latent
    if Array(latent.shape.dropFirst()) != Array(target.dropFirst()) {
        latent = try commonUpscale(latent, width: target[3], height: target[2], method: "bilinear", crop: "center")
    }
    return try latent.repeatedToBatch(target[0])
}

/// Pastes one latent onto another at a pixel position, optionally with feathered edges.
public struct LatentComposite: Node {
    static let samplesTo = Input<Latent>("samples_to")
    static let samplesFrom = Input<Latent>("samples_from")
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)
    static let feather = Input.int("feather", default: 0, min: 0, max: maxResolution, step: 8)

    public static let schema = NodeSchema(
        "LatentComposite", displayName: "Latent Composite", category: "latent",
        inputs: [samplesTo, samplesFrom, x, y, feather], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samplesTo]
        latent.samples = try latent.samples.composited(
            try inputs[Self.samplesFrom].samples, x: latentPixels(try inputs[Self.x]),
            y: latentPixels(try inputs[Self.y]), feather: latentPixels(try inputs[Self.feather]))
        return NodeOutputs(latent)
    }
}

/// `samples1 · blend_factor + samples2 · (1 − blend_factor)`; samples2 is resized (bicubic) to fit.
public struct LatentBlend: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")
    static let blendFactor = Input.float("blend_factor", default: 0.5, min: 0, max: 1, step: 0.01)

    public static let schema = NodeSchema(
        "LatentBlend", displayName: "Latent Blend", category: "_for_testing",
        inputs: [samples1, samples2, blendFactor], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples1]
        var other = try inputs[Self.samples2].samples
        if other.shape != latent.samples.shape {
            other = try commonUpscale(
                other, width: latent.samples.dim(3), height: latent.samples.dim(2), method: "bicubic", crop: "center")
        }
        let factor = try inputs[Self.blendFactor]
        latent.samples = try latent.samples.scaled(by: Float(factor)).adding(other.scaled(by: Float(1 - factor)))
        return NodeOutputs(latent)
    }
}

/// A pixel rectangle of a latent; x and y are kept at least 64 pixels from the far edges.
public struct LatentCrop: Node {
    static let samples = Input<Latent>("samples")
    static let width = Input.int("width", default: 512, min: 64, max: maxResolution, step: 8)
    static let height = Input.int("height", default: 512, min: 64, max: maxResolution, step: 8)
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)

    public static let schema = NodeSchema(
        "LatentCrop", displayName: "Crop Latent", category: "latent/transform",
        inputs: [samples, width, height, x, y], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        let (h, w) = (latent.samples.dim(2), latent.samples.dim(3))
        // As ComfyUI: clamp the corner (which may go negative on tiny latents), then Python slicing.
        let x = min(latentPixels(try inputs[Self.x]), w - 8), y = min(latentPixels(try inputs[Self.y]), h - 8)
        func range(_ start: Int, _ length: Int, _ size: Int) -> (Int, Int) {
            func bound(_ i: Int) -> Int { i < 0 ? max(0, i + size) : min(i, size) }
            let (from, to) = (bound(start), bound(start + length))
            return (from, max(0, to - from))
        }
        let (y0, ch) = range(y, latentPixels(try inputs[Self.height]), h)
        let (x0, cw) = range(x, latentPixels(try inputs[Self.width]), w)
        latent.samples = try latent.samples.slice(axis: 2, start: y0, length: ch).slice(axis: 3, start: x0, length: cw)
        return NodeOutputs(latent)
    }
}

/// Mirrors a latent top-to-bottom ("x-axis") or left-to-right ("y-axis").
public struct LatentFlip: Node {
    static let samples = Input<Latent>("samples")
    static let method = Input.combo("flip_method", options: ["x-axis: vertically", "y-axis: horizontally"])

    public static let schema = NodeSchema(
        "LatentFlip", displayName: "Flip Latent", category: "latent/transform",
        inputs: [samples, method], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        let method = try inputs[Self.method]
        if method.hasPrefix("x") {
            latent.samples = latent.samples.flipped(axis: 2)
        } else if method.hasPrefix("y") {
            latent.samples = latent.samples.flipped(axis: 3)
        }
        return NodeOutputs(latent)
    }
}

/// Turns a latent clockwise by quarter turns.
public struct LatentRotate: Node {
    static let samples = Input<Latent>("samples")
    static let rotation = Input.combo("rotation", options: ["none", "90 degrees", "180 degrees", "270 degrees"])

    public static let schema = NodeSchema(
        "LatentRotate", displayName: "Rotate Latent", category: "latent/transform",
        inputs: [samples, rotation], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        let rotation = try inputs[Self.rotation]
        let turns = rotation.hasPrefix("90") ? 1 : rotation.hasPrefix("180") ? 2 : rotation.hasPrefix("270") ? 3 : 0
        latent.samples = try latent.samples.rotated90(turns)
        return NodeOutputs(latent)
    }
}

/// `samples1 + samples2`, samples2 resized and repeated to samples1's shape.
public struct LatentAdd: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")

    public static let schema = NodeSchema(
        "LatentAdd", displayName: "LatentAdd", category: "latent/advanced",
        inputs: [samples1, samples2], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples1]
        latent.samples = try latent.samples.adding(
            reshapeLatent(try inputs[Self.samples2].samples, to: latent.samples.shape))
        return NodeOutputs(latent)
    }
}

/// `samples1 − samples2`, samples2 resized and repeated to samples1's shape.
public struct LatentSubtract: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")

    public static let schema = NodeSchema(
        "LatentSubtract", displayName: "LatentSubtract", category: "latent/advanced",
        inputs: [samples1, samples2], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples1]
        latent.samples = try latent.samples.subtracting(
            reshapeLatent(try inputs[Self.samples2].samples, to: latent.samples.shape))
        return NodeOutputs(latent)
    }
}

/// `samples · multiplier`.
public struct LatentMultiply: Node {
    static let samples = Input<Latent>("samples")
    static let multiplier = Input.float("multiplier", default: 1.0, min: -10.0, max: 10.0, step: 0.01)

    public static let schema = NodeSchema(
        "LatentMultiply", displayName: "LatentMultiply", category: "latent/advanced",
        inputs: [samples, multiplier], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        latent.samples = latent.samples.scaled(by: Float(try inputs[Self.multiplier]))
        return NodeOutputs(latent)
    }
}

/// Interpolates channel directions and magnitudes separately (`ratio` 1: samples1).
public struct LatentInterpolate: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")
    static let ratio = Input.float("ratio", default: 1.0, min: 0.0, max: 1.0, step: 0.01)

    public static let schema = NodeSchema(
        "LatentInterpolate", displayName: "LatentInterpolate", category: "latent/advanced",
        inputs: [samples1, samples2, ratio], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples1]
        let other = try reshapeLatent(try inputs[Self.samples2].samples, to: latent.samples.shape)
        latent.samples = try latent.samples.magnitudeInterpolated(other, ratio: try inputs[Self.ratio])
        return NodeOutputs(latent)
    }
}

/// Both batches as one (samples2 resized to samples1's size), with their batch indices.
public struct LatentBatch: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")

    public static let schema = NodeSchema(
        "LatentBatch", displayName: "LatentBatch", category: "latent/batch",
        inputs: [samples1, samples2], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (first, second) = (try inputs[Self.samples1], try inputs[Self.samples2])
        var other = second.samples
        if Array(other.shape.dropFirst()) != Array(first.samples.shape.dropFirst()) {
            other = try commonUpscale(
                other, width: first.samples.dim(3), height: first.samples.dim(2), method: "bilinear", crop: "center")
        }
        let indices =
            (first.batchIndex ?? Array(0..<first.samples.dim(0))) + (second.batchIndex ?? Array(0..<other.dim(0)))
        // ComfyUI copies samples1's dict, so its noise mask (if any) carries over.
        return NodeOutputs(
            Latent(
                try Tensor.concat([first.samples, other], axis: 0), batchIndex: indices, noiseMask: first.noiseMask))
    }
}

/// "fixed": every sample gets the first sample's noise; "random": each its own.
public struct LatentBatchSeedBehavior: Node {
    static let samples = Input<Latent>("samples")
    static let seedBehavior = Input.combo("seed_behavior", options: ["random", "fixed"], default: "fixed")

    public static let schema = NodeSchema(
        "LatentBatchSeedBehavior", displayName: "LatentBatchSeedBehavior", category: "latent/advanced",
        inputs: [samples, seedBehavior], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        switch try inputs[Self.seedBehavior] {
        case "random": latent.batchIndex = nil
        case "fixed":
            latent.batchIndex = Array(repeating: latent.batchIndex?.first ?? 0, count: latent.samples.dim(0))
        default: break
        }
        return NodeOutputs(latent)
    }
}
