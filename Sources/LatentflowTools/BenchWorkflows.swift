import Latentflow

/// The API-format workflows the benchmark runs through the executor: the 4-step LCM image (full
/// VAE or TAESD decode, any batch size) and SD-Turbo's 1-step image (workflows/sd-turbo-tiny.json
/// with TAESD decode).
enum BenchWorkflows {
    enum Decoder: String {
        /// The checkpoint's own AutoencoderKL.
        case vae
        /// `VAELoader` "taesd" (models/vae_approx/taesd_encoder.*, taesd_decoder.*).
        case taesd
    }

    /// A prompt of each decoder's own: with one prompt, the engine's output cache would hand the TAESD
    /// case the latents the full-VAE case sampled for the same seed, and the case would time the
    /// decoder alone.
    static func prompt(_ decoder: Decoder) -> String {
        decoder == .vae ? "a photo of a cat" : "a photo of a cat, decoded by TAESD"
    }

    static func lcm(size: Int, seed: Int, checkpoint: String, decoder: Decoder = .vae, batchSize: Int = 1)
        -> JSONValue
    {
        graph(
            [
                ("1", node("CheckpointLoaderSimple", [("ckpt_name", .string(checkpoint))])),
                (
                    "2",
                    node(
                        "ModelSamplingDiscrete",
                        [("model", link("1", 0)), ("sampling", .string("lcm")), ("zsnr", .bool(false))])
                ),
                ("3", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string(prompt(decoder)))])),
                ("4", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string(""))])),
                ("5", emptyLatent(size: size, batchSize: batchSize)),
                (
                    "6",
                    node(
                        "KSampler",
                        [
                            ("model", link("2", 0)), ("seed", .int(Int64(seed))), ("steps", .int(4)),
                            ("cfg", .double(1)),
                            ("sampler_name", .string("lcm")), ("scheduler", .string("sgm_uniform")),
                            ("positive", link("3", 0)),
                            ("negative", link("4", 0)), ("latent_image", link("5", 0)), ("denoise", .double(1)),
                        ])
                ),
            ] + decode(samples: link("6", 0), vae: link("1", 2), decoder: decoder))
    }

    /// SDTurboScheduler (1 step) into SamplerCustom with euler_ancestral at cfg 1, TAESD decode.
    static func sdTurbo(size: Int, seed: Int, checkpoint: String, steps: Int = 1) -> JSONValue {
        graph(
            [
                ("1", node("CheckpointLoaderSimple", [("ckpt_name", .string(checkpoint))])),
                ("2", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string("a photo of a cat"))])),
                ("3", node("CLIPTextEncode", [("clip", link("1", 1)), ("text", .string(""))])),
                ("4", emptyLatent(size: size, batchSize: 1)),
                ("5", node("KSamplerSelect", [("sampler_name", .string("euler_ancestral"))])),
                (
                    "6",
                    node(
                        "SDTurboScheduler",
                        [("model", link("1", 0)), ("steps", .int(Int64(steps))), ("denoise", .double(1))])
                ),
                (
                    "7",
                    node(
                        "SamplerCustom",
                        [
                            ("model", link("1", 0)), ("add_noise", .bool(true)), ("noise_seed", .int(Int64(seed))),
                            ("cfg", .double(1)), ("positive", link("2", 0)), ("negative", link("3", 0)),
                            ("sampler", link("5", 0)), ("sigmas", link("6", 0)), ("latent_image", link("4", 0)),
                        ])
                ),
            ] + decode(samples: link("7", 0), vae: link("1", 2), decoder: .taesd))
    }

    static func decode(samples: JSONValue, vae: JSONValue, decoder: Decoder) -> [(String, JSONValue)] {
        let taesd = ("9", node("VAELoader", [("vae_name", .string("taesd"))]))
        return (decoder == .taesd ? [taesd] : []) + [
            ("7d", node("VAEDecode", [("samples", samples), ("vae", decoder == .taesd ? link("9", 0) : vae)])),
            ("8", node("SaveImage", [("images", link("7d", 0)), ("filename_prefix", .string("bench"))])),
        ]
    }

    static func emptyLatent(size: Int, batchSize: Int) -> JSONValue {
        node(
            "EmptyLatentImage",
            [("width", .int(Int64(size))), ("height", .int(Int64(size))), ("batch_size", .int(Int64(batchSize)))])
    }

    static func graph(_ nodes: [(String, JSONValue)]) -> JSONValue { .object(nodes) }

    static func node(_ type: String, _ inputs: [(String, JSONValue)]) -> JSONValue {
        .object([("class_type", .string(type)), ("inputs", .object(inputs))])
    }

    static func link(_ id: String, _ slot: Int) -> JSONValue { .array([.string(id), .int(Int64(slot))]) }
}
