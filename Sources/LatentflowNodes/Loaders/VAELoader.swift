import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Loads a standalone VAE from `models/vae` (LDM or diffusers layout; a diffusers AutoencoderTiny
/// as TAESD, which ComfyUI leaves empty), TAESD from
/// `models/vae_approx` (`taesd`), or the pixel-space identity (`pixel_space`).
///
/// Matches: ComfyUI `nodes.py` `VAELoader` (`vae_list`, `load_taesd`, `load_vae`).
public struct VAELoader: Node {
    static let vaeName = Input.files("vae_name", folder: "vae", plus: { approximateVAENames($0) })

    public static let schema = NodeSchema(
        "VAELoader", displayName: "Load VAE", category: "loaders",
        inputs: [vaeName], outputs: outputs(Output<VAEModel>()))

    public init() {}

    /// `vae_list`'s additions: `taesd` when `vae_approx` holds both `taesd_encoder.*` and
    /// `taesd_decoder.*`, then `pixel_space` (ComfyUI's other TAESDs are for models Latentflow
    /// does not run).
    static func approximateVAENames(_ files: FileCatalog) -> [String] {
        let approx = files.files(in: "vae_approx")
        let hasTAESD = ["taesd_encoder.", "taesd_decoder."].allSatisfy { prefix in
            approx.contains { $0.hasPrefix(prefix) }
        }
        return (hasTAESD ? ["taesd"] : []) + ["pixel_space"]
    }

    /// `load_taesd`'s file choice: the first `vae_approx` file whose name starts with `taesd_<part>.`.
    static func taesdFile(_ part: String, _ context: ExecutionContext) throws -> String {
        let files = context.environment.files
        guard let name = files.files(in: "vae_approx").first(where: { $0.hasPrefix("taesd_\(part).") }) else {
            throw NodeError(
                "no taesd_\(part).* in models/vae_approx (looked in \(files.searchPaths(for: "vae_approx")))")
        }
        return try files.locate(name, in: "vae_approx").path
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let name = try inputs[Self.vaeName]
        switch name {
        case "pixel_space":
            return NodeOutputs(
                VAEModel(
                    autoencoder: PixelSpaceAutoencoder(), byteCount: 4,
                    weights: ["pixel_space_vae": Parameter(Tensor(shape: [], repeating: 1))]))
        case "taesd":
            let (taesd, bytes, weights) = try TAESDFiles.load(
                encoderPath: try Self.taesdFile("encoder", context), decoderPath: try Self.taesdFile("decoder", context)
            )
            return NodeOutputs(VAEModel(autoencoder: taesd, byteCount: bytes, weights: weights))
        default:
            let url = try context.environment.files.locate(name, in: "vae")
            let (vae, bytes, weights, nonFinite) = try StandaloneVAE.loadWithWeights(path: url.path)
            if let warning = nonFiniteWeightsWarning(nonFinite) { context.warn("\(url.lastPathComponent): " + warning) }
            return NodeOutputs(VAEModel(autoencoder: vae, byteCount: bytes, weights: weights))
        }
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        let name = constants[vaeName]
        guard name == "taesd" else { return fileFingerprint(name, folder: "vae", environment: environment) }
        let approx = environment.files.files(in: "vae_approx")
        let parts = ["taesd_encoder.", "taesd_decoder."].map { prefix in
            fileFingerprint(approx.first { $0.hasPrefix(prefix) }, folder: "vae_approx", environment: environment)
        }
        guard case .value(let encoder) = parts[0], case .value(let decoder) = parts[1] else { return .unchanged }
        return .value(encoder + "|" + decoder)
    }
}
