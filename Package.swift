// swift-tools-version:6.0
import PackageDescription

// The numeric kernels rely on AVX2 + FMA (every x86-64 CPU since 2013); Swift takes its
// code-generation target from the Clang importer, so -Xcc -march reaches Swift code too.
#if arch(x86_64)
    let vectorFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
    // AVX-512 kernels, run only where the CPU has AVX-512 (LatentflowTensorAVX512's comment).
    let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4"])]
#else
    let vectorFlags: [SwiftSetting] = []
    let avx512Flags: [SwiftSetting] = []
#endif
let swift5Mode: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "Latentflow",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LatentflowTensor", targets: ["LatentflowTensor"]),
        .library(name: "LatentflowIO", targets: ["LatentflowIO"]),
        .library(name: "LatentflowGraph", targets: ["LatentflowGraph"]),
        .library(name: "LatentflowNodes", targets: ["LatentflowNodes"]),
        .library(name: "Latentflow", targets: ["Latentflow"]),
        .executable(name: "latentflow", targets: ["LatentflowCLI"]),
        .executable(name: "latentflow-tools", targets: ["LatentflowTools"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Already resolved for Hummingbird; named here because the server adds a handler to its pipeline.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libopenblas-dev, libpng-dev, libjpeg-dev,
        // libwebp-dev).
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        // libwebp's animation encoder and decoder (Debian: libwebp-dev), for SaveAnimatedWEBP.
        .systemLibrary(
            name: "CLibWebP", pkgConfig: "libwebpmux",
            providers: [.apt(["libwebp-dev"]), .brew(["webp"])]),
        // libpng and libjpeg report errors by longjmp, which Swift frames must never see:
        // this small C layer owns the setjmp points and returns plain error strings.
        .target(name: "CImageCodecs", dependencies: ["CLibPNG", "CLibJPEG"]),
        // glibc's mallopt, which Swift's Glibc module leaves out (see AllocatorPolicy).
        .target(name: "CAllocatorPolicy"),
        // OpenBLAS's kernel choice at run time and the CPU features it depends on (see BLASCore).
        .target(name: "COpenBLASCore", dependencies: ["COpenBLAS"]),
        // bfloat16 products on AVX512-BF16, compiled per function for that target (see BFloat16GEMM).
        .target(name: "CBFloat16GEMM"),

        // Each target's comment names what it may import; nothing else (the layers only point down).
        // Kernels at AVX-512 width, compiled for x86-64-v4: LatentflowTensor calls them only after
        // checking the CPU (Swift has no per-function target attribute). Raw pointers and SIMD
        // values only, so none of its code is a generic specialization the linker could share with
        // the other modules. May import: nothing.
        .target(name: "LatentflowTensorAVX512", swiftSettings: avx512Flags + swift5Mode),
        // The numeric layer: tensors and kernels. May import: COpenBLAS, COpenBLASCore, CAllocatorPolicy,
        // CBFloat16GEMM, LatentflowTensorAVX512.
        // Swift 5 mode: kernels hand raw buffers to worker threads, and the Swift 6 checker cannot
        // see that each thread writes a disjoint range.
        .target(
            name: "LatentflowTensor",
            dependencies: [
                "COpenBLAS", "COpenBLASCore", "CAllocatorPolicy", "CBFloat16GEMM", "LatentflowTensorAVX512",
            ],
            swiftSettings: vectorFlags + swift5Mode),
        // The workflow engine: formats, typed ports and nodes, validation, cached execution; the
        // IMAGE and MASK port values every pack shares. No model code. May import: LatentflowTensor.
        .target(name: "LatentflowGraph", dependencies: ["LatentflowTensor"]),
        // Files: safetensors, images, ComfyUI's model folders. May import: LatentflowTensor,
        // CImageCodecs, CLibWebP, Yams (not the engine).
        .target(name: "LatentflowIO", dependencies: ["LatentflowTensor", "CImageCodecs", "CLibWebP", "Yams"]),
        // Model sampling, schedules, samplers, guidance and PyTorch-exact noise; sees models only as
        // closures. May import: LatentflowTensor. Swift 5 mode for its vectorised kernels.
        .target(
            name: "LatentflowSampling", dependencies: ["LatentflowTensor"], swiftSettings: vectorFlags + swift5Mode),
        // CLIP, UNet and VAE on the tensor module; checkpoint layouts, LoRA, textual inversion.
        // May import: LatentflowTensor, LatentflowIO.
        .target(
            name: "LatentflowModels", dependencies: ["LatentflowTensor", "LatentflowIO"],
            resources: [.copy("CLIP/Resources")], swiftSettings: vectorFlags),
        // The built-in node pack under ComfyUI's class names: thin adapters over Models and
        // Sampling. May import: LatentflowGraph, LatentflowTensor, LatentflowIO, LatentflowModels,
        // LatentflowSampling.
        .target(
            name: "LatentflowNodes",
            dependencies: [
                "LatentflowGraph", "LatentflowTensor", "LatentflowIO", "LatentflowModels", "LatentflowSampling",
            ],
            resources: [.copy("Conditioning/Resources")], swiftSettings: vectorFlags),
        // The facade for library users, the CLI and a server: engine, configuration, workflow
        // loading, batch runner, error JSON; re-exports Graph, IO, Nodes and Tensor. May import:
        // LatentflowGraph, LatentflowNodes, LatentflowIO, LatentflowTensor.
        .target(
            name: "Latentflow",
            dependencies: ["LatentflowGraph", "LatentflowNodes", "LatentflowIO", "LatentflowTensor"]),
        // Stub nodes for engine tests (ComfyUI's execution testing pack, re-created). May import:
        // LatentflowGraph, LatentflowTensor.
        .target(name: "LatentflowTestSupport", dependencies: ["LatentflowGraph", "LatentflowTensor"]),
        // `latentflow serve`: ComfyUI's HTTP + WebSocket API over one engine; its queue and history
        // persist in SQLite through GRDB (Debian: libsqlite3-dev). May import: Latentflow,
        // Hummingbird, HummingbirdWebSocket, GRDB, and HummingbirdCore, NIOCore, NIOHTTP1, Logging (the
        // 400 answer to a request that does not parse is a channel handler).
        .target(
            name: "LatentflowServer",
            dependencies: [
                "Latentflow", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The `latentflow` command: argument parsing and printing only. May import: Latentflow,
        // LatentflowServer, ArgumentParser.
        .executableTarget(
            name: "LatentflowCLI",
            dependencies: [
                "Latentflow", "LatentflowServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // `latentflow-tools`: benchmarks, the reference-rate sampling and make-tiny-model (also
        // reached as `latentflow bench` / `latentflow make-tiny-model`). May import: Latentflow,
        // LatentflowModels, ArgumentParser.
        .executableTarget(
            name: "LatentflowTools",
            dependencies: [
                "Latentflow", "LatentflowModels", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: vectorFlags),

        // Examples, built by CI so they cannot rot.
        .target(name: "ExampleNodes", dependencies: ["Latentflow"], path: "examples/CustomNodePack/ExampleNodes"),
        .executableTarget(
            name: "example-custom-nodes", dependencies: ["ExampleNodes", "Latentflow"],
            path: "examples/CustomNodePack/Demo"),
        .executableTarget(
            name: "example-custom-pipeline", dependencies: ["ExampleNodes", "Latentflow"],
            path: "examples/CustomPipeline"),
        // The README's library example, verbatim: one `import Latentflow`.
        .executableTarget(name: "example-library-use", dependencies: ["Latentflow"], path: "examples/LibraryUse"),

        .testTarget(
            name: "LatentflowTensorTests", dependencies: ["LatentflowTensor", "LatentflowIO"],
            resources: [.copy("Fixtures")], swiftSettings: swift5Mode),
        // Engine tests: stub nodes only, no model stack.
        .testTarget(name: "LatentflowGraphTests", dependencies: ["LatentflowGraph", "LatentflowTestSupport"]),
        .testTarget(
            name: "LatentflowSamplingTests", dependencies: ["LatentflowSampling", "LatentflowIO", "LatentflowTensor"],
            resources: [.copy("Fixtures")], swiftSettings: swift5Mode),
        .testTarget(
            name: "LatentflowModelsTests", dependencies: ["LatentflowModels", "LatentflowIO", "LatentflowTensor"],
            resources: [.copy("Fixtures")]),
        // Node-level tests: built-in nodes in the engine, with the stub nodes.
        .testTarget(
            name: "LatentflowNodesTests",
            dependencies: [
                "Latentflow", "LatentflowNodes", "LatentflowGraph", "LatentflowIO", "LatentflowTestSupport",
                "LatentflowModels", "LatentflowTensor", "LatentflowSampling",
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LatentflowEndToEndTests",
            dependencies: ["Latentflow", "LatentflowModels", "LatentflowNodes", "LatentflowSampling"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LatentflowIOTests", dependencies: ["LatentflowIO", "LatentflowTensor"],
            resources: [.copy("Fixtures")]),
        // The server in-process on a loopback port with the tiny model: HTTP routes and WebSocket events.
        .testTarget(
            name: "LatentflowServerTests",
            dependencies: [
                "LatentflowServer", "Latentflow",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            resources: [.copy("Fixtures")]),

        // libFuzzer targets (scripts/run-fuzzers.sh builds them with -DFUZZING and the sanitizers);
        // a plain build makes each one a replayer of its corpus folder. May import: Latentflow,
        // FuzzDriver (the driver they share).
        .target(name: "FuzzDriver", path: "fuzz/Sources/FuzzDriver"),
        .executableTarget(
            name: "fuzz-safetensors", dependencies: ["Latentflow", "FuzzDriver"], path: "fuzz/Sources/fuzz-safetensors"),
        .executableTarget(
            name: "fuzz-pickle", dependencies: ["Latentflow", "FuzzDriver"], path: "fuzz/Sources/fuzz-pickle"),
        .executableTarget(
            name: "fuzz-workflow", dependencies: ["Latentflow", "FuzzDriver"], path: "fuzz/Sources/fuzz-workflow"),
        .executableTarget(
            name: "fuzz-ui-workflow", dependencies: ["Latentflow", "FuzzDriver"], path: "fuzz/Sources/fuzz-ui-workflow"),
        .executableTarget(
            name: "fuzz-image", dependencies: ["Latentflow", "FuzzDriver"], path: "fuzz/Sources/fuzz-image"),
    ],
    swiftLanguageModes: [.v6]
)
