import Foundation
import LatentflowIO
import XCTest

@testable import LatentflowModels
@testable import LatentflowTensor

/// The UNet patches (FreeU, Deep Shrink, HyperTile, hypernetworks) against torch transcriptions of
/// ComfyUI's patch functions (scripts/make_unet_patch_fixtures.py). Bounds: 1e-5 relative for the
/// Fourier filter (torch's FFT in float32 against our float64 projection), exact or within rounding
/// for the rest.
final class UNetPatchTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!.path
    }
    static let file = try! SafeTensorsFile(path: fixture("unet_patches.safetensors"))
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        let json = file.metadata["cases"]!.data(using: .utf8)!
        return try! JSONSerialization.jsonObject(with: json) as! [String: [String: Any]]
    }()
    static func tensor(_ key: String) -> Tensor { try! file.tensor(key) }
    static let call = UNetCallInfo(sigma: 1, originalShape: [1, 4, 8, 8])

    func testFourierFilterMatchesTorchFFT() throws {
        var worst: Float = 0
        for name in Self.cases.keys.filter({ $0.hasPrefix("fourier_") }).sorted() {
            let spec = Self.cases[name]!
            let out = try FreeUPatch.lowFrequencyScaled(
                Self.tensor("\(name).x"), threshold: spec["threshold"] as! Int,
                scale: Float(spec["scale"] as! Double))
            let error = relativeError(out, Self.tensor("\(name).expected"))
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-5, name)
        }
        print("Fourier_filter: worst relative error \(worst)")
    }

    func testFreeUOutputBlockPatch() throws {
        var worst: Float = 0
        for name in Self.cases.keys.filter({ $0.hasPrefix("freeu_") }).sorted() {
            let spec = Self.cases[name]!
            func value(_ key: String) -> Float { Float(spec[key] as! Double) }
            let patch = FreeUPatch.outputBlockPatch(
                modelChannels: spec["model_channels"] as! Int, b1: value("b1"), b2: value("b2"), s1: value("s1"),
                s2: value("s2"), version: spec["v2"] as! Bool ? .v2 : .v1)
            let (h, skip) = try patch(Self.tensor("\(name).h"), Self.tensor("\(name).hsp"), 5, Self.call)
            let (eh, eskip) = (Self.tensor("\(name).expected_h"), Self.tensor("\(name).expected_hsp"))
            let errors = (relativeError(h, eh), relativeError(skip, eskip))
            worst = max(worst, errors.0, errors.1)
            XCTAssertLessThan(errors.0, 1e-6, name + " backbone")
            XCTAssertLessThan(errors.1, 1e-5, name + " skip")
        }
        print("FreeU output_block_patch: worst relative error \(worst)")
    }

    func testDeepShrinkScalesAsComfyUI() throws {
        for name in Self.cases.keys.filter({ $0.hasPrefix("shrink_") }).sorted() {
            let spec = Self.cases[name]!
            let shrink = DeepShrink(
                block: 3, factor: spec["factor"] as! Double, sigmaStart: 10, sigmaEnd: 2,
                downscale: FeatureResampling(method: spec["downscale_method"] as! String)!,
                upscale: FeatureResampling(method: spec["upscale_method"] as! String)!)
            let h = Self.tensor("\(name).h")
            let shrunk = try shrink.inputBlockPatch(h, 3, UNetCallInfo(sigma: 5, originalShape: h.shape))
            XCTAssertLessThan(relativeError(shrunk, Self.tensor("\(name).expected_shrunk")), 1e-6, name)
            let (restored, _) = try shrink.outputBlockPatch(shrunk, h, 0, Self.call)
            XCTAssertLessThan(relativeError(restored, Self.tensor("\(name).expected_restored")), 1e-6, name)
            // Other blocks, and sigmas outside [sigma_end, sigma_start], pass through.
            for (block, sigma) in [(2, Float(5)), (3, 10.5), (3, 1.9)] {
                let untouched = try shrink.inputBlockPatch(h, block, UNetCallInfo(sigma: sigma, originalShape: []))
                XCTAssertEqual(untouched.shape, h.shape, "\(name) block \(block) sigma \(sigma)")
            }
            for sigma: Float in [10, 2] {
                let edge = try shrink.inputBlockPatch(h, 3, UNetCallInfo(sigma: sigma, originalShape: []))
                XCTAssertEqual(edge.shape, shrunk.shape, "\(name): sigma \(sigma) is inside the range")
            }
        }
    }

    func testHyperTileDrawsAsPythonRandom() throws {
        let spec = Self.cases["hypertile"]!
        for draw in spec["random_divisor"] as! [[Int]] {
            XCTAssertEqual(
                HyperTilePatch.randomDivisor(draw[0], minimum: draw[1], options: draw[2], seed: draw[3]), draw[4],
                "\(draw)")
        }
        for pair in spec["hw_candidates"] as! [[Double]] {
            let found = HyperTilePatch.hwCandidates(Int(pair[0]), aspectRatio: pair[1])
            XCTAssertEqual(found.map { [$0.0, $0.1] }, [Int(pair[2]), Int(pair[3])], "\(pair)")
        }
    }

    func testHyperTileTilesTheQueryAndPutsItBack() throws {
        let expected = Self.cases["hypertile_call"]!
        let tiling = HyperTilePatch(modelChannels: 8, tileSize: 32, swapSize: 2, maxDepth: 0, scaleDepth: false)
        let q = Self.tensor("hypertile.q")
        let call = UNetCallInfo(sigma: 1, originalShape: [2, 4, 8, 12])
        let (tiled, k, v) = try tiling.attentionPatch(q, q, q, call)
        XCTAssertEqual(tiled.shape, Self.tensor("hypertile.expected_q").shape, "\(expected)")
        XCTAssertEqual(tiled.scalars, Self.tensor("hypertile.expected_q").scalars)
        XCTAssertEqual(k.shape, q.shape, "keys stay whole")
        XCTAssertEqual(v.shape, q.shape)
        let out = try tiling.outputPatch(Self.tensor("hypertile.out"), call)
        XCTAssertEqual(out.scalars, Self.tensor("hypertile.expected_out").scalars)
        // Widths outside apply_to are left alone (and draw nothing).
        let wide = Tensor(shape: [1, 96, 16])
        XCTAssertEqual(try tiling.attentionPatch(wide, wide, wide, call).0.shape, [1, 96, 16])
    }

    func testHypernetworkMatchesComfyUIModules() throws {
        for stem in ["hypernetwork_tiny", "hypernetwork_mish"] {
            let spec = Self.cases[stem]!
            let network = try Hypernetwork(
                path: Self.fixture(spec["file"] as! String), strength: Float(spec["strength"] as! Double))
            var worst: Float = 0
            for width in spec["widths"] as! [Int] {
                let (k, v) = try network.apply(
                    key: Self.tensor("\(stem)_\(width).k"), value: Self.tensor("\(stem)_\(width).v"))
                let errors = (
                    relativeError(k, Self.tensor("\(stem)_\(width).expected_k")),
                    relativeError(v, Self.tensor("\(stem)_\(width).expected_v"))
                )
                worst = max(worst, errors.0, errors.1)
                XCTAssertLessThan(max(errors.0, errors.1), 1e-5, "\(stem) width \(width)")
            }
            print("\(stem): worst relative error \(worst), widths \(network.widths)")
        }
    }

    func testHypernetworkActivations() throws {
        let x = Self.tensor("activations.x")
        for activation in Hypernetwork.Activation.allCases {
            let expected = Self.tensor("activations.\(activation.rawValue)")
            let found = x.mapScalars { activation($0) }
            for (a, b) in zip(found.scalars, expected.scalars) {
                XCTAssertEqual(a, b, accuracy: 2e-6 * max(1, abs(b)), activation.rawValue)
            }
        }
    }

    func testHypernetworkErrorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-hypernetwork-\(UUID()).pt")
        try Data("not a pickle".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try Hypernetwork(path: url.path, strength: 1)) { error in
            XCTAssertTrue("\(error)".contains(url.lastPathComponent), "\(error)")
        }
    }

    func testLoRAExtractionMatchesComfyUI() throws {
        var worstSVD: Float = 0, worstFactors: Float = 0
        for name in Self.cases.keys.filter({ $0.hasPrefix("lora_") }).sorted() {
            let rank = Self.cases[name]!["rank"] as! Int
            let diff = Self.tensor("\(name).diff")
            // The SVD (signs are LAPACK's): its rank-r truncation against torch's.
            let matrix = try diff.reshaped([diff.dim(0), -1])
            let (u, s, vh) = try matrix.singularValueDecomposition()
            let r = min(rank, diff.dim(0), diff.dim(1))
            let truncated = try u.slice(axis: 1, start: 0, length: r).multiplying(
                s.slice(axis: 0, start: 0, length: r).reshaped([1, r])
            ).matmul(vh.slice(axis: 0, start: 0, length: r))
            let svdError = relativeError(truncated, Self.tensor("\(name).truncated"))
            XCTAssertLessThan(svdError, 1e-5, name + " truncation")
            let torchS = try Self.tensor("\(name).S").slice(axis: 0, start: 0, length: s.count)
            XCTAssertLessThan(relativeError(s, torchS), 1e-5, name + " singular values")
            // The rest of extract_lora on torch's own factors.
            let (up, down) = try LoRAExtraction.factors(
                diffShape: diff.shape, u: Self.tensor("\(name).U"), s: Self.tensor("\(name).S"),
                vh: Self.tensor("\(name).Vh"), rank: rank)
            let errors = (
                relativeError(up, Self.tensor("\(name).expected_up")),
                relativeError(down, Self.tensor("\(name).expected_down"))
            )
            // Float32 rounding of the quantile's lerp moves the clamp bound by an ulp or so.
            XCTAssertLessThan(max(errors.0, errors.1), 1e-5, name + " factors")
            (worstSVD, worstFactors) = (max(worstSVD, svdError), max(worstFactors, errors.0, errors.1))
            // Our own SVD through the whole extraction: the clamped product stays near the truncation.
            let (ownUp, ownDown) = try LoRAExtraction.factors(diff, rank: rank)
            XCTAssertEqual(ownUp.shape, up.shape, name)
            XCTAssertEqual(ownDown.shape, down.shape, name)
        }
        let quantile = LoRAExtraction.quantile(Self.tensor("quantile.values").scalars, 0.99)
        XCTAssertEqual(quantile, Self.tensor("quantile.expected").scalars[0], accuracy: 1e-6)
        print("LoRA extraction: SVD truncation worst relative error \(worstSVD), factors \(worstFactors)")
    }
}
