// swift-tools-version:6.0
import PackageDescription

// The numeric kernels rely on AVX2 + FMA (every x86-64 CPU since 2013); Swift takes its
// code-generation target from the Clang importer, so -Xcc -march reaches Swift code too.
#if arch(x86_64)
let vectorFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
let cVectorFlags: [CSetting] = [.unsafeFlags(["-march=x86-64-v3", "-O3"])]
#else
let vectorFlags: [SwiftSetting] = []
let cVectorFlags: [CSetting] = [.unsafeFlags(["-O3"])]
#endif

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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libopenblas-dev, libpng-dev, libjpeg-dev).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CLibJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        // libpng and libjpeg report errors by longjmp, which Swift frames must never see:
        // this small C layer owns the setjmp points and returns plain error strings.
        .target(name: "CImageCodecs", dependencies: ["CLibPNG", "CLibJPEG"]),
        // glibc's mallopt, which Swift's Glibc module leaves out (see AllocatorPolicy).
        .target(name: "CAllocatorPolicy"),

        .target(name: "LatentflowTensor", dependencies: ["COpenBLAS", "CAllocatorPolicy"], swiftSettings: vectorFlags),
        // The workflow engine: formats, typed nodes, validation, cached execution. No model code.
        .target(name: "LatentflowGraph"),
        .target(name: "LatentflowIO", dependencies: ["LatentflowTensor", "LatentflowGraph", "CImageCodecs", "Yams"]),
        // Model sampling, schedules, samplers and PyTorch-exact noise; sees models only as closures.
        .target(name: "LatentflowSampling", dependencies: ["LatentflowTensor"], swiftSettings: vectorFlags),
        // CLIP, UNet and VAE on the tensor module; checkpoint layouts and LoRA.
        .target(name: "LatentflowModels", dependencies: ["LatentflowTensor", "LatentflowIO"],
                resources: [.copy("CLIP/Resources")], swiftSettings: vectorFlags),
        // The built-in node pack under ComfyUI's class names.
        .target(name: "LatentflowNodes",
                dependencies: ["LatentflowGraph", "LatentflowTensor", "LatentflowIO", "LatentflowModels", "LatentflowSampling"],
                swiftSettings: vectorFlags),
        // The facade for library users and the CLI: engine, models folder, workflow loading.
        .target(name: "Latentflow", dependencies: ["LatentflowGraph", "LatentflowNodes", "LatentflowIO", "LatentflowTensor"]),
        // Stub nodes and builders for tests (ComfyUI's execution testing pack, re-created).
        .target(name: "LatentflowTestSupport", dependencies: ["LatentflowGraph", "LatentflowNodes", "LatentflowTensor"]),
        .executableTarget(
            name: "LatentflowCLI",
            dependencies: [
                "Latentflow", "LatentflowGraph", "LatentflowTensor", "LatentflowIO", "LatentflowModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: vectorFlags),

        // Examples, built by CI so they cannot rot.
        .target(name: "ExampleNodes", dependencies: ["LatentflowGraph", "LatentflowNodes", "LatentflowTensor"],
                path: "examples/CustomNodePack/ExampleNodes"),
        .executableTarget(name: "example-custom-nodes", dependencies: ["ExampleNodes", "Latentflow", "LatentflowIO"],
                          path: "examples/CustomNodePack/Demo"),
        .executableTarget(name: "example-custom-pipeline",
                          dependencies: ["ExampleNodes", "Latentflow", "LatentflowGraph", "LatentflowIO", "LatentflowNodes"],
                          path: "examples/CustomPipeline"),

        .testTarget(name: "LatentflowTensorTests", dependencies: ["LatentflowTensor", "LatentflowIO"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowGraphTests",
                    dependencies: ["LatentflowGraph", "LatentflowTestSupport", "LatentflowNodes", "Latentflow", "LatentflowIO"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowSamplingTests", dependencies: ["LatentflowSampling", "LatentflowIO"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowModelsTests", dependencies: ["LatentflowModels", "LatentflowIO", "LatentflowTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowEndToEndTests", dependencies: ["Latentflow", "LatentflowGraph", "LatentflowIO", "LatentflowNodes", "LatentflowTensor"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowIOTests", dependencies: ["LatentflowIO"], resources: [.copy("Fixtures")]),
    ],
    // Kernels hand raw buffers to worker threads; the Swift 6 checker cannot see that each
    // thread writes a disjoint range, so the package compiles in the Swift 5 language mode.
    swiftLanguageModes: [.v5]
)
