import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// APG and Mahiro: the hooks their nodes add to a MODEL, against the functions ComfyUI v0.3.64's own
/// nodes install, called on the same seeded predictions (scripts/make_apg_mahiro_fixtures.py,
/// Fixtures/apg_mahiro.safetensors). APG runs a sigma sequence that rises once (its momentum resets).
final class ProjectedGuidanceNodeTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/apg_mahiro.safetensors").path)
    static func metadata(_ key: String) -> Any {
        try! JSONSerialization.jsonObject(with: Data(file.metadata[key]!.utf8))
    }
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    static func relative(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = max(b.scalars.map(abs).max() ?? 0, 1e-12)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
    }

    /// The single guidance hook `node` adds to the tiny model, made for one run.
    func hook(_ node: any Node, _ inputs: [String: any Sendable]) async throws -> GuidanceHook {
        var values = inputs
        values["model"] = UNetPatchNodeTests.model
        let model = try await node.execute(NodeInputs(values), context: context).values[0] as! DiffusionModel
        XCTAssertEqual(model.guidance.count, 1)
        return try model.guidance[0].makeHook(GuidanceRun(positive: Conditioning([]), makeEntries: { _, _ in [] }))
    }

    func testAPGMatchesComfyUI() async throws {
        let sigmas = (Self.metadata("sigmas") as! [NSNumber]).map(\.floatValue)
        var worst: Float = 0
        for (name, value) in Self.metadata("apg") as! [String: [String: NSNumber]] {
            let inputs: [String: any Sendable] = [
                "eta": value["eta"]!.doubleValue, "norm_threshold": value["norm_threshold"]!.doubleValue,
                "momentum": value["momentum"]!.doubleValue,
            ]
            guard case .preCFG(let apply) = try await hook(APG(), inputs) else { return XCTFail("not a pre-CFG hook") }
            for (i, sigma) in sigmas.enumerated() {
                let cond = try Self.file.tensor("cond.\(i)"), uncond = try Self.file.tensor("uncond.\(i)")
                let p = CFGPredictions(
                    x: cond, sigma: sigma, cfg: value["cond_scale"]!.doubleValue, cond: cond, uncond: uncond,
                    uncondSkipped: false)
                let error = Self.relative(try apply(p).cond, try Self.file.tensor("apg.\(name).\(i)"))
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-5, "APG \(name) step \(i)")
            }
        }
        print("APG: worst relative error \(worst)")
    }

    func testMahiroMatchesComfyUI() async throws {
        guard case .postCFG(let apply) = try await hook(Mahiro(), [:]) else { return XCTFail("not a post-CFG hook") }
        var worst: Float = 0
        for (i, scale) in (Self.metadata("mahiro_scales") as! [NSNumber]).map(\.floatValue).enumerated() {
            let cond = try Self.file.tensor("cond.\(i)")
            let uncond = i == 1 ? Tensor(shape: cond.shape) : try Self.file.tensor("uncond.\(i)")
            let denoised = try uncond.adding(cond.subtracting(uncond).scaled(by: scale))
            let p = CFGPredictions(
                x: cond, sigma: 1, cfg: Double(scale), cond: cond, uncond: uncond, uncondSkipped: i == 1)
            let error = Self.relative(try apply(p, denoised), try Self.file.tensor("mahiro.\(i)"))
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-5, "Mahiro case \(i)")
        }
        print("Mahiro: worst relative error \(worst)")
    }
}
