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
        .executable(name: "latentflow", targets: ["LatentflowCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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

        .target(name: "LatentflowTensor", dependencies: ["COpenBLAS"], swiftSettings: vectorFlags),
        .target(name: "LatentflowIO", dependencies: ["LatentflowTensor", "CImageCodecs"]),
        .executableTarget(
            name: "LatentflowCLI",
            dependencies: [
                "LatentflowTensor", "LatentflowIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: vectorFlags),

        .testTarget(name: "LatentflowTensorTests", dependencies: ["LatentflowTensor", "LatentflowIO"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LatentflowIOTests", dependencies: ["LatentflowIO"], resources: [.copy("Fixtures")]),
    ],
    // Kernels hand raw buffers to worker threads; the Swift 6 checker cannot see that each
    // thread writes a disjoint range, so the package compiles in the Swift 5 language mode.
    swiftLanguageModes: [.v5]
)
