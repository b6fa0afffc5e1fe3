import Foundation
import LatentflowIO
import LatentflowNodes
import LatentflowTensor

/// Every setting of an engine, and the one place that reads `LATENTFLOW_*` environment
/// variables: each setting comes from a flag, else its environment variable, else a default.
public struct EngineConfiguration: Sendable {
    /// Holds `models/`, `input/`, `output/` (ComfyUI's base path).
    public var baseDirectory: URL
    /// Overrides `<base>/models`.
    public var modelsDirectory: URL?
    /// Overrides `<base>/output`.
    public var outputDirectory: URL?
    /// `extra_model_paths.yaml` files to read besides the one in the base folder.
    public var extraModelPaths: [URL] = []
    /// Override `<base>/input` and `<base>/temp` (the folders themselves; `resolve` turns ComfyUI's
    /// `--temp-directory DIR` into `DIR/temp`, as ComfyUI's `main.py` does).
    public var inputDirectory: URL?
    public var tempDirectory: URL?
    /// The most the output cache keeps, in bytes (by the values' memory footprints).
    public var cacheBudgetBytes = Self.defaultCacheBudgetBytes
    /// The built-in nodes' settings.
    public var lowMemory = false
    public var stepNoiseSeedOffset: UInt64 = 0
    /// The most one node may allocate at once, in bytes (checked before allocating); 75% of the
    /// machine's memory by default.
    public var memoryBudgetBytes = MemoryBudget.defaultBytes
    /// Step previews (`latentflow run --preview`, `serve --preview-method`); none by default.
    public var preview = PreviewSettings()
    /// The most the 3x3 convolutions keep of their Winograd-transformed weights between calls
    /// (`WinogradWeightCache`); nil leaves the process's setting as it is.
    public var winogradCacheBytes: Int?
    /// What loaded UNets compute in: bfloat16 with `--bf16-unet` (ComfyUI's flag; fast on CPUs
    /// with AVX512-BF16), else float32.
    public var unetPrecision: ProductPrecision = .float32

    public static let defaultCacheBudgetBytes = 12 << 30
    /// The Winograd budget `--bf16-unet` brings when none is given: about half the 1678 MiB a 512 px
    /// SD1.5 UNet's bfloat16 planes take. It measured within 0-5% of keeping them all (the 4-step
    /// 512 px image, full VAE / TAESD, 22.5 / 14.3 s against 22.0 / 13.6 s with 2G back to back) at
    /// a peak below PyTorch's float32 pipeline's (5.45 GiB against 6.41; PyTorch 5.89); none kept:
    /// 22.8 / 14.5 s, 4.70 GiB. The budget is shared by every model of the process, first come first
    /// kept: a process that alternates models wants more (`--winograd-cache 2G`).
    public static let bfloat16WinogradCacheBytes = 1 << 30

    public init(baseDirectory: URL) { self.baseDirectory = baseDirectory }

    /// What the command line gave; nil or empty where a flag was not given.
    public struct Flags: Sendable {
        public var baseDirectory: String?
        public var modelsDirectory: String?
        public var outputDirectory: String?
        public var extraModelPaths: [String] = []
        public var inputDirectory: String?
        public var tempDirectory: String?
        public var cacheBudget: String?
        public var memoryBudget: String?
        public var winogradCache: String?
        public var lowMemory = false
        public var bf16UNet = false

        public init() {}
    }

    /// Flags, then the environment (`LATENTFLOW_BASE_DIR`, `LATENTFLOW_MODELS_DIR`,
    /// `LATENTFLOW_OUTPUT_DIR`, `LATENTFLOW_EXTRA_MODEL_PATHS` (colon-separated, added to the
    /// flags'), `LATENTFLOW_CACHE_BUDGET`, `LATENTFLOW_LOW_MEMORY=1`,
    /// `LATENTFLOW_STEP_NOISE_SEED_OFFSET`, `LATENTFLOW_MEMORY_BUDGET`, `LATENTFLOW_WINOGRAD_CACHE`, `LATENTFLOW_BF16_UNET=1`), then
    /// defaults (the current folder).
    public static func resolve(
        _ flags: Flags = Flags(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> EngineConfiguration {
        let base = flags.baseDirectory ?? environment["LATENTFLOW_BASE_DIR"] ?? FileManager.default.currentDirectoryPath
        var configuration = EngineConfiguration(baseDirectory: URL(fileURLWithPath: base))
        configuration.modelsDirectory = (flags.modelsDirectory ?? environment["LATENTFLOW_MODELS_DIR"]).map(
            URL.init(fileURLWithPath:))
        configuration.outputDirectory = (flags.outputDirectory ?? environment["LATENTFLOW_OUTPUT_DIR"]).map(
            URL.init(fileURLWithPath:))
        configuration.inputDirectory = flags.inputDirectory.map(URL.init(fileURLWithPath:))
        // ComfyUI keeps its temp files in a `temp` folder inside the one given, and empties that at
        // start-up: `--temp-directory /tmp` must not mean "empty /tmp".
        configuration.tempDirectory = flags.tempDirectory.map {
            URL(fileURLWithPath: $0).appendingPathComponent("temp")
        }
        let extraFromEnvironment =
            environment["LATENTFLOW_EXTRA_MODEL_PATHS"].map { $0.split(separator: ":").map(String.init) } ?? []
        configuration.extraModelPaths = (flags.extraModelPaths + extraFromEnvironment).map(URL.init(fileURLWithPath:))
        if let budget = flags.cacheBudget ?? environment["LATENTFLOW_CACHE_BUDGET"] {
            configuration.cacheBudgetBytes = try parseByteCount(budget, setting: "cache budget")
        }
        if let budget = flags.memoryBudget ?? environment["LATENTFLOW_MEMORY_BUDGET"] {
            configuration.memoryBudgetBytes = try parseByteCount(budget, setting: "memory budget")
        }
        if let budget = flags.winogradCache ?? environment["LATENTFLOW_WINOGRAD_CACHE"] {
            configuration.winogradCacheBytes = try parseByteCount(budget, setting: "Winograd cache budget")
        }
        configuration.lowMemory = flags.lowMemory || environment["LATENTFLOW_LOW_MEMORY"] == "1"
        if flags.bf16UNet || environment["LATENTFLOW_BF16_UNET"] == "1" {
            configuration.unetPrecision = .bfloat16
            // Kept bfloat16 Winograd planes measured 5-21% faster in four alternating comparisons (README, "bfloat16 UNet"),
            // where kept float32 transforms did not pay: the fast mode keeps them unless told otherwise.
            if configuration.winogradCacheBytes == nil {
                configuration.winogradCacheBytes = Self.bfloat16WinogradCacheBytes
            }
        }
        if let offset = environment["LATENTFLOW_STEP_NOISE_SEED_OFFSET"] {
            guard let value = UInt64(offset) else {
                throw ConfigurationError(
                    "LATENTFLOW_STEP_NOISE_SEED_OFFSET must be a non-negative integer, not '\(offset)'")
            }
            configuration.stepNoiseSeedOffset = value
        }
        return configuration
    }

    /// The model folders: the base folder's `extra_model_paths.yaml` first (as ComfyUI reads
    /// it), then the configured ones.
    public func modelPaths() throws -> ModelPaths {
        var extras = extraModelPaths
        let local = baseDirectory.appendingPathComponent("extra_model_paths.yaml")
        if FileManager.default.fileExists(atPath: local.path) { extras.insert(local, at: 0) }
        return try ModelPaths(
            baseDirectory: baseDirectory, modelsDirectory: modelsDirectory,
            outputDirectory: outputDirectory, extraPaths: extras, inputDirectory: inputDirectory,
            tempDirectory: tempDirectory)
    }

    public var nodeSettings: BuiltinNodeSettings {
        BuiltinNodeSettings(
            lowMemory: lowMemory, stepNoiseSeedOffset: stepNoiseSeedOffset, memoryBudgetBytes: memoryBudgetBytes,
            preview: preview, unetPrecision: unetPrecision)
    }

    /// `8589934592`, `8G`, `512M`, `64K` (binary units).
    static func parseByteCount(_ text: String, setting: String) throws -> Int {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.trimmingCharacters(in: .whitespaces).uppercased())
        if digits.hasSuffix("IB") {
            digits = digits.dropLast(2)
        } else if digits.hasSuffix("B") {
            digits = digits.dropLast()
        }
        var multiplier = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value >= 0, value.isFinite, value * Double(multiplier) < Double(Int.max)
        else {
            throw ConfigurationError(
                "the \(setting) must be a size such as 8G, 512M or a number of bytes, not '\(text)'")
        }
        return Int(value * Double(multiplier))
    }
}

/// A setting that cannot be used, named with its value.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
