import ArgumentParser
import Foundation
import Latentflow

/// Where models, inputs and outputs live (ComfyUI's layout under a base folder), and the engine's
/// settings. ComfyUI's own spellings of the folder flags are accepted too.
struct FolderOptions: ParsableArguments {
    @Option(
        name: [.customLong("base-dir"), .customLong("base-directory")],
        help: "Folder holding models/, input/ and output/ (default: $LATENTFLOW_BASE_DIR or the current folder).")
    var baseDirectory: String?

    @Option(name: .customLong("models-dir"), help: "Models folder (default: $LATENTFLOW_MODELS_DIR or <base>/models).")
    var modelsDirectory: String?

    @Option(
        name: [.customLong("output-dir"), .customLong("output-directory")],
        help: "Output folder (default: $LATENTFLOW_OUTPUT_DIR or <base>/output).")
    var outputDirectory: String?

    @Option(
        name: .customLong("input-directory"), help: "Folder LoadImage reads and uploads go to (default: <base>/input).")
    var inputDirectory: String?

    @Option(
        name: .customLong("temp-directory"),
        help:
            "Previews go to its 'temp' folder, as ComfyUI's do; serve empties that at start and exit (default: <base>)."
    )
    var tempDirectory: String?

    @Option(
        name: [.customLong("extra-model-paths"), .customLong("extra-model-paths-config")],
        help: "A ComfyUI extra_model_paths.yaml to read (repeatable).")
    var extraModelPaths: [String] = []

    @Option(
        name: .customLong("cache-budget"),
        help: "The most the output cache keeps, e.g. 8G or 512M (default: $LATENTFLOW_CACHE_BUDGET or 12G).")
    var cacheBudget: String?

    @Option(
        name: .customLong("memory-budget"),
        help:
            "The most one node may allocate at once, e.g. 16G; larger images and latents fail the node with a clear message (default: $LATENTFLOW_MEMORY_BUDGET or 75% of the machine's memory)."
    )
    var memoryBudget: String?

    @Option(
        name: .customLong("winograd-cache"),
        help:
            "The most the 3x3 convolutions keep of their Winograd-transformed weights between steps, e.g. 1G; 0 transforms every call (default: $LATENTFLOW_WINOGRAD_CACHE or 0, 1G with --bf16-unet; a 512 px SD1.5 UNet's take 694M, 1678M in bfloat16; nothing is kept with --low-memory)."
    )
    var winogradCache: String?

    @Flag(
        name: .customLong("low-memory"),
        help:
            "Leave checkpoint weights in their file (float16 stays float16) and read and widen each layer as it runs: less memory, somewhat slower (also $LATENTFLOW_LOW_MEMORY=1)."
    )
    var lowMemory = false

    @Flag(
        name: .customLong("bf16-unet"),
        help:
            "Compute the UNet's convolutions and linear layers on bfloat16 inputs with float32 sums, as ComfyUI's --bf16-unet: UNet steps 1.4-1.6x faster on CPUs with AVX512-BF16, emulated (slower) elsewhere; images differ from float32 at bfloat16's rounding; stores the UNet's weights in bfloat16 (half their float32 memory) and packs them on the first image (SD1.5 at 512 px: peak 4.7 GiB as in float32 with --winograd-cache 0, 5.5 GiB with the 1G --winograd-cache it brings unless one is given); no effect with --low-memory, whose weights stay in their file (also $LATENTFLOW_BF16_UNET=1)."
    )
    var bf16UNet = false

    var flags: EngineConfiguration.Flags {
        var flags = EngineConfiguration.Flags()
        flags.baseDirectory = baseDirectory
        flags.modelsDirectory = modelsDirectory
        flags.outputDirectory = outputDirectory
        flags.extraModelPaths = extraModelPaths
        flags.inputDirectory = inputDirectory
        flags.tempDirectory = tempDirectory
        flags.cacheBudget = cacheBudget
        flags.memoryBudget = memoryBudget
        flags.winogradCache = winogradCache
        flags.lowMemory = lowMemory
        flags.bf16UNet = bf16UNet
        return flags
    }

    /// These options as flags again, for a worker process.
    var arguments: [String] {
        var arguments: [String] = []
        if let baseDirectory { arguments += ["--base-dir", baseDirectory] }
        if let modelsDirectory { arguments += ["--models-dir", modelsDirectory] }
        if let outputDirectory { arguments += ["--output-dir", outputDirectory] }
        if let inputDirectory { arguments += ["--input-directory", inputDirectory] }
        if let tempDirectory { arguments += ["--temp-directory", tempDirectory] }
        for path in extraModelPaths { arguments += ["--extra-model-paths", path] }
        if let cacheBudget { arguments += ["--cache-budget", cacheBudget] }
        if let memoryBudget { arguments += ["--memory-budget", memoryBudget] }
        if let winogradCache { arguments += ["--winograd-cache", winogradCache] }
        if lowMemory { arguments.append("--low-memory") }
        if bf16UNet { arguments.append("--bf16-unet") }
        return arguments
    }

    func engine(preview: PreviewSettings = PreviewSettings()) throws -> Engine {
        var configuration = try EngineConfiguration.resolve(flags)
        configuration.preview = preview
        return try Engine(configuration: configuration)
    }
}

extension PreviewMethod: ExpressibleByArgument {}

/// Step previews: ComfyUI's `--preview-method` and `--preview-size`, and how often.
struct PreviewOptions: ParsableArguments {
    @Option(
        name: .customLong("preview-method"),
        help:
            "How samplers preview their steps: none, auto (latent2rgb), latent2rgb or taesd (models/vae_approx/taesd_decoder.*)."
    )
    var method: PreviewMethod?

    @Option(name: .customLong("preview-size"), help: "The longest side of a preview in pixels (default 512).")
    var size = 512

    @Option(name: .customLong("preview-every"), help: "Preview every N sampler steps (and the last; default 1).")
    var every = 1

    /// The settings, with `defaultMethod` where no method was given.
    func settings(defaultMethod: PreviewMethod = .none) -> PreviewSettings {
        PreviewSettings(method: method ?? defaultMethod, maxSize: size, everySteps: every)
    }

    func validate() throws {
        guard size > 0 else { throw ValidationError("--preview-size must be positive, not \(size)") }
        guard every > 0 else { throw ValidationError("--preview-every must be positive, not \(every)") }
    }
}

/// Writes to standard error, where progress and diagnostics go; results go to standard output.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
