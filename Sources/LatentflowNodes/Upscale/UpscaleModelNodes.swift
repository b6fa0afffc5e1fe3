import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// ComfyUI's UPSCALE_MODEL: a loaded super-resolution network (spandrel's `ImageModelDescriptor`).
public struct UpscaleModel: PortValue, MemoryFootprint {
    public static var portType: PortType { "UPSCALE_MODEL" }
    public let network: any UpscaleNetwork
    public let byteCount: Int

    public init(network: any UpscaleNetwork, byteCount: Int) { (self.network, self.byteCount) = (network, byteCount) }
}

/// Loads an ESRGAN / Real-ESRGAN (RRDBNet, Compact) model from `models/upscale_models`.
///
/// Matches: ComfyUI `comfy_extras/nodes_upscale_model.py` `UpscaleModelLoader`.
public struct UpscaleModelLoader: Node {
    static let modelName = Input.files("model_name", folder: "upscale_models")

    public static let schema = NodeSchema(
        "UpscaleModelLoader", displayName: "Load Upscale Model", category: "loaders",
        inputs: [modelName], outputs: outputs(Output<UpscaleModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.modelName], in: "upscale_models")
        let (network, bytes) = try UpscaleModelDetection.load(path: url.path)
        return NodeOutputs(UpscaleModel(network: network, byteCount: bytes))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[modelName], folder: "upscale_models", environment: environment)
    }
}

/// Upscales images with a loaded model in 512-pixel tiles overlapping by 32, blended as ComfyUI
/// blends them, clamped to 0...1. Where a tile's activations would not fit the memory budget the
/// tile is halved (ComfyUI halves it on an out-of-memory error), down to 128.
///
/// Matches: ComfyUI `comfy_extras/nodes_upscale_model.py` `ImageUpscaleWithModel.upscale`.
public struct ImageUpscaleWithModel: Node {
    static let upscaleModel = Input<UpscaleModel>("upscale_model")
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "ImageUpscaleWithModel", displayName: "Upscale Image (using Model)", category: "image/upscaling",
        inputs: [upscaleModel, image], outputs: outputs(Output<ImageBatch>()))

    static let initialTile = 512
    static let overlap = 32
    static let smallestTile = 128

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs[Self.upscaleModel], image = try inputs[Self.image]
        let network = model.network
        guard image.channels == network.inputChannels else {
            throw NodeError(
                "image has \(image.channels) channels, the \(network.architecture) model takes \(network.inputChannels)"
            )
        }
        let (h, w, s) = (image.height, image.width, network.scale)
        let settings = context.environment.builtinSettings
        // The result and ComfyUI's two accumulators (out, out_div) of one image.
        let outputBytes = MemoryBudget.tensorBytes([image.count + 2, network.outputChannels, h * s, w * s])
        try settings.checkAllocation(
            bytes: outputBytes, what: "ImageUpscaleWithModel",
            for: describeBatch(image.count, "image", width: w * s, height: h * s))
        let tile = try Self.tileSize(
            floatsPerInputPixel: network.activationFloatsPerInputPixel,
            model: "\(network.architecture) x\(network.scale)", height: h, width: w,
            budget: settings.memoryBudgetBytes - (outputBytes ?? 0))
        let total = image.count * TiledUpscale.tileCount(height: h, width: w, tile: tile, overlap: Self.overlap)
        var done = 0
        let upscaled = try TiledUpscale.run(
            try image.channelsFirst(), network: network, tile: tile, overlap: Self.overlap
        ) {
            done += 1
            context.progress(done, of: total)
            try context.checkCancellation()
        }
        return NodeOutputs(try ImageBatch(channelsFirst: upscaled.clamped(min: 0, max: 1)))
    }

    /// 512, halved while one tile's activations (`floatsPerInputPixel` float32 values per input
    /// pixel, the network's estimate) would exceed `budget` bytes; below 128 the node
    /// fails, as ComfyUI re-raises the out-of-memory error there.
    public static func tileSize(
        floatsPerInputPixel: Int, model: String, height: Int, width: Int, budget: Int
    ) throws -> Int {
        var tile = initialTile
        while true {
            let pixels = min(tile, height) * min(tile, width)
            let bytes = MemoryBudget.product([pixels, floatsPerInputPixel, 4])
            if let bytes, bytes <= budget { return tile }
            tile /= 2
            if tile < smallestTile {
                throw NodeError(
                    "a \(model) upscale does not fit the memory budget (\(MemoryBudget.format(max(0, budget))) left after the output) even in tiles of \(smallestTile) pixels (--memory-budget or LATENTFLOW_MEMORY_BUDGET)"
                )
            }
        }
    }
}
