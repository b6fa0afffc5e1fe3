import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// A batch of zero latents for a given image size.
public struct EmptyLatentImage: Node {
    static let width = Input.int(
        "width", default: 512, min: 16, max: maxResolution, step: 8,
        tooltip: "The width of the latent images in pixels.")
    static let height = Input.int(
        "height", default: 512, min: 16, max: maxResolution, step: 8,
        tooltip: "The height of the latent images in pixels.")
    static let batchSize = Input.int(
        "batch_size", default: 1, min: 1, max: 4096, tooltip: "The number of latent images in the batch.")

    public static let schema = NodeSchema(
        "EmptyLatentImage", displayName: "Empty Latent Image", category: "latent",
        description: "Create a new batch of empty latent images to be denoised via sampling.",
        inputs: [width, height, batchSize], outputs: outputs(Output<Latent>(tooltip: "The empty latent image batch.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (n, h, w) = (try inputs[Self.batchSize], try inputs[Self.height], try inputs[Self.width])
        let shape = LatentFormat.sd15.latentShape(batchSize: n, height: h, width: w)
        try context.checkAllocation(shape: shape, for: describeBatch(n, "latent", width: w, height: h))
        return NodeOutputs(Latent(Tensor(shape: shape)))
    }
}

let latentUpscaleMethods = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]

/// Resizes latents to a pixel size (in SD's latent pixels, 1/8 of it); 0 keeps the aspect ratio.
public struct LatentUpscale: Node {
    static let samples = Input<Latent>("samples")
    static let method = Input.combo("upscale_method", options: latentUpscaleMethods)
    static let width = Input.int("width", default: 512, min: 0, max: maxResolution, step: 8)
    static let height = Input.int("height", default: 512, min: 0, max: maxResolution, step: 8)
    static let crop = Input.combo("crop", options: cropMethods)

    public static let schema = NodeSchema(
        "LatentUpscale", displayName: "Upscale Latent", category: "latent",
        inputs: [samples, method, width, height, crop], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        var (w, h) = (try inputs[Self.width], try inputs[Self.height])
        if w == 0 && h == 0 { return NodeOutputs(latent) }
        let (lh, lw) = (latent.samples.dim(2), latent.samples.dim(3))
        // ComfyUI rounds the derived side with Python's round() and clamps both to at least 64.
        if w == 0 {
            h = max(64, h)
            w = Int((Double(lw) * Double(h) / Double(lh)).rounded(.toNearestOrEven))
        } else if h == 0 {
            w = max(64, w)
            h = Int((Double(lh) * Double(w) / Double(lw)).rounded(.toNearestOrEven))
        }
        w = max(64, w)
        h = max(64, h)
        let format = LatentFormat.sd15
        let (latentW, latentH) = (format.latentLength(forPixels: w), format.latentLength(forPixels: h))
        try checkLatentAllocation(
            latent.samples, batch: latent.samples.dim(0), width: latentW, height: latentH, context)
        latent.samples = try commonUpscale(
            latent.samples, width: latentW,
            height: latentH,
            method: try inputs[Self.method], crop: try inputs[Self.crop])
        return NodeOutputs(latent)
    }
}

public struct LatentUpscaleBy: Node {
    static let samples = Input<Latent>("samples")
    static let method = Input.combo("upscale_method", options: latentUpscaleMethods)
    static let scaleBy = Input.float("scale_by", default: 1.5, min: 0.01, max: 8.0, step: 0.01)

    public static let schema = NodeSchema(
        "LatentUpscaleBy", displayName: "Upscale Latent By", category: "latent",
        inputs: [samples, method, scaleBy], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        let scale = try inputs[Self.scaleBy]
        let w = Int((Double(latent.samples.dim(3)) * scale).rounded(.toNearestOrEven)),
            h = Int((Double(latent.samples.dim(2)) * scale).rounded(.toNearestOrEven))
        try checkLatentAllocation(latent.samples, batch: latent.samples.dim(0), width: w, height: h, context)
        latent.samples = try commonUpscale(
            latent.samples, width: w, height: h, method: try inputs[Self.method], crop: "disabled")
        return NodeOutputs(latent)
    }
}

/// The memory budget check for a `[batch, C, height, width]` latent (sizes in latent pixels;
/// a nil batch overflowed).
func checkLatentAllocation(
    _ samples: Tensor, batch: Int?, width: Int, height: Int, _ context: ExecutionContext
) throws {
    let format = LatentFormat.sd15
    let purpose = describeBatch(
        batch ?? Int.max, "latent", width: MemoryBudget.product([width, format.downscaleFactor]) ?? Int.max,
        height: MemoryBudget.product([height, format.downscaleFactor]) ?? Int.max)
    try context.environment.builtinSettings.checkAllocation(
        bytes: batch.flatMap { MemoryBudget.tensorBytes([$0, samples.dim(1), height, width]) }, what: context.classType,
        for: purpose)
}

/// A slice of a latent batch, remembering which batch indices it holds (they decide its noise).
public struct LatentFromBatch: Node {
    static let samples = Input<Latent>("samples")
    static let batchIndex = Input.int("batch_index", default: 0, min: 0, max: 63)
    static let length = Input.int("length", default: 1, min: 1, max: 64)

    public static let schema = NodeSchema(
        "LatentFromBatch", displayName: "Latent From Batch", category: "latent/batch",
        inputs: [samples, batchIndex, length], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let latent = try inputs[Self.samples]
        let count = latent.samples.dim(0)
        let start = min(count - 1, try inputs[Self.batchIndex])
        let length = min(count - start, try inputs[Self.length])
        let indices = latent.batchIndex ?? Array(0..<count)
        // A single mask serves every sample; a batch of masks is sliced with the samples.
        var mask = latent.noiseMask
        if let masks = mask, masks.rank > 0, masks.dim(0) > 1 {
            let repeated = try masks.repeatedToBatch(max(count, masks.dim(0)))
            mask = try repeated.slice(axis: 0, start: start, length: min(length, repeated.dim(0) - start))
        }
        return NodeOutputs(
            Latent(
                try latent.samples.slice(axis: 0, start: start, length: length),
                batchIndex: Array(indices[start..<(start + length)]), noiseMask: mask))
    }
}

/// Repeats a latent batch, continuing its batch indices.
public struct RepeatLatentBatch: Node {
    static let samples = Input<Latent>("samples")
    static let amount = Input.int("amount", default: 1, min: 1, max: 64)

    public static let schema = NodeSchema(
        "RepeatLatentBatch", displayName: "Repeat Latent Batch", category: "latent/batch",
        inputs: [samples, amount], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let latent = try inputs[Self.samples]
        let amount = try inputs[Self.amount]
        let s = latent.samples
        try checkLatentAllocation(
            s, batch: MemoryBudget.product([s.dim(0), amount]), width: s.dim(3), height: s.dim(2), context)
        let samples = try Tensor.concat(Array(repeating: latent.samples, count: amount), axis: 0)
        var indices: [Int]?
        if let base = latent.batchIndex {
            let offset = (base.max() ?? 0) - (base.min() ?? 0) + 1
            indices = (0..<amount).flatMap { i in base.map { $0 + i * offset } }
        }
        // ComfyUI repeats a batch of masks (one mask serves all as it is).
        var mask = latent.noiseMask
        if let masks = mask, masks.rank > 0, masks.dim(0) > 1 {
            mask = try Tensor.concat(Array(repeating: masks, count: amount), axis: 0)
        }
        return NodeOutputs(Latent(samples, batchIndex: indices, noiseMask: mask))
    }
}
