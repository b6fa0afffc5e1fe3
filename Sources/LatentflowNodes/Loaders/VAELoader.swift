import LatentflowGraph
import LatentflowModels

/// Loads a standalone VAE from `models/vae` (LDM or diffusers layout).
public struct VAELoader: Node {
    static let vaeName = Input.files("vae_name", folder: "vae")

    public static let schema = NodeSchema(
        "VAELoader", displayName: "Load VAE", category: "loaders",
        inputs: [vaeName], outputs: outputs(Output<VAEModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.vaeName], in: "vae")
        let (vae, bytes, weights, nonFinite) = try StandaloneVAE.loadWithWeights(path: url.path)
        if let warning = nonFiniteWeightsWarning(nonFinite) { context.warn("\(url.lastPathComponent): " + warning) }
        return NodeOutputs(VAEModel(autoencoder: vae, byteCount: bytes, weights: weights))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[vaeName], folder: "vae", environment: environment)
    }
}
