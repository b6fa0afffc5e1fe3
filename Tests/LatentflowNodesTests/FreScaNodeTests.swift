import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// FreSca's hook against the pre-CFG function ComfyUI v0.3.64's own node installs (torch.fft), on
/// even and odd sizes and cutoffs beyond half the size (scripts/make_fresca_fixtures.py,
/// Fixtures/fresca.safetensors); cfg 1's skipped negative leaves the predictions as they are.
final class FreScaNodeTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fresca.safetensors").path)
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func testFreScaMatchesComfyUI() async throws {
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["cases"]!.utf8))
            as! [String: [String: NSNumber]]
        var worst: Float = 0
        for (name, value) in cases {
            let inputs: [String: any Sendable] = [
                "model": UNetPatchNodeTests.model, "scale_low": value["scale_low"]!.doubleValue,
                "scale_high": value["scale_high"]!.doubleValue, "freq_cutoff": value["freq_cutoff"]!.intValue,
            ]
            let model = try await FreSca().execute(NodeInputs(inputs), context: context).values[0] as! DiffusionModel
            let hook = try model.guidance[0].makeHook(
                GuidanceRun(positive: Conditioning([]), makeEntries: { _, _ in [] }))
            guard case .preCFG(let apply) = hook else { return XCTFail("not a pre-CFG hook") }
            let cond = try Self.file.tensor("\(name).cond"), uncond = try Self.file.tensor("\(name).uncond")
            let p = CFGPredictions(x: cond, sigma: 1, cfg: 5, cond: cond, uncond: uncond, uncondSkipped: false)
            let expected = try Self.file.tensor("\(name).out")
            let result = try apply(p).cond
            let scale = expected.scalars.map(abs).max()!
            let error = zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-5, name)
            let skipped = CFGPredictions(
                x: cond, sigma: 1, cfg: 1, cond: cond, uncond: Tensor(shape: cond.shape), uncondSkipped: true)
            XCTAssertEqual(try apply(skipped).cond.scalars, cond.scalars, name)
        }
        print("FreSca: worst relative error \(worst)")
    }
}
