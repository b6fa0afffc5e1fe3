import Foundation
import Latentflow
import LatentflowGraph
import LatentflowSampling
import XCTest

@testable import LatentflowNodes

/// ConditioningSetMask (and ConditioningSetArea) through sampling's resolution and guidance,
/// against ComfyUI v0.3.64's own nodes, `resolve_areas_and_cond_masks_multidim` and
/// `sampling_function` on the cases `scripts/make_masked_conditioning_fixtures.py` wrote.
final class MaskedConditioningParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    /// The fixture's stand-in UNet: `tanh(0.7·x + v)·0.9 + 0.01·σ`, v the entry's embedding value.
    static func standIn(_ v: Float) -> Denoiser {
        { x, sigma in x.mapScalars { tanh($0 * 0.7 + v) * 0.9 + sigma * 0.01 } }
    }

    /// One conditioning built by our nodes from a fixture spec.
    func build(_ spec: [String: Any], _ file: SafeTensorsFile) async throws -> Conditioning {
        let v = (spec["v"] as! NSNumber).floatValue
        var conditioning = Conditioning([.init(embedding: Tensor(shape: [1, 77, 8], repeating: v))])
        for step in spec["steps"] as? [[Any]] ?? [] {
            let (node, values): (any Node, [String: any Sendable])
            if step[0] as! String == "mask" {
                node = ConditioningSetMask()
                values = [
                    "conditioning": conditioning, "mask": Mask(try file.tensor(step[1] as! String)),
                    "strength": (step[2] as! NSNumber).doubleValue, "set_cond_area": step[3] as! String,
                ]
            } else {
                node = ConditioningSetArea()
                let numbers = step[1...].map { ($0 as! NSNumber) }
                values = [
                    "conditioning": conditioning, "width": numbers[0].intValue, "height": numbers[1].intValue,
                    "x": numbers[2].intValue, "y": numbers[3].intValue, "strength": numbers[4].doubleValue,
                ]
            }
            conditioning = try await node.execute(NodeInputs(values), context: context).values[0] as! Conditioning
        }
        return conditioning
    }

    /// Sampling's guidance entries for a side, as CFGDenoiser makes them, with the stand-in model.
    func entries(_ specs: [[String: Any]], _ file: SafeTensorsFile, height: Int, width: Int) async throws
        -> [CFGGuidance.Entry]
    {
        var entries: [CFGGuidance.Entry] = []
        for spec in specs {
            let resolved = try await build(spec, file).resolvedForSampling(height: height, width: width)
            for entry in resolved.entries {
                entries.append(
                    CFGGuidance.Entry(
                        area: entry.area, strength: entry.strength, mask: entry.mask, maskStrength: entry.maskStrength,
                        denoise: Self.standIn(entry.embedding.scalars[0])))
            }
        }
        return entries
    }

    func testMaskedGuidanceMatchesComfyUI() async throws {
        let url = try XCTUnwrap(
            Bundle.module.url(
                forResource: "masked_conditioning", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensorsFile(path: url.path)
        let cases =
            try JSONSerialization.jsonObject(with: file.metadata["cases"]!.data(using: .utf8)!) as! [String: Any]
        let x = try file.tensor("x")
        var worst: [String: Float] = [:]
        for (name, raw) in cases {
            let spec = raw as! [String: Any]
            let positive = try await entries(
                spec["positive"] as! [[String: Any]], file, height: x.dim(2), width: x.dim(3))
            let negative = try await entries(
                spec["negative"] as! [[String: Any]], file, height: x.dim(2), width: x.dim(3))
            // The areas sampling resolved, as ComfyUI's conds record them.
            let areas = (spec["areas"] as! [[Int]]).map { $0.isEmpty ? nil : $0 }
            XCTAssertEqual(positive.map { $0.area.map { [$0.height, $0.width, $0.y, $0.x] } }, areas, name)
            let guidance = CFGGuidance(
                positive: positive, negative: negative, cfg: (spec["cfg"] as! NSNumber).doubleValue)
            let output = try guidance.denoise(x, sigma: (spec["sigma"] as! NSNumber).floatValue)
            worst[name] = NodeCaseFixture.maxError(output, try file.tensor(name), name)
            XCTAssertLessThanOrEqual(worst[name]!, 1e-5, name)
        }
        XCTAssertEqual(worst.count, 7)
        print("masked conditioning parity (max abs error):", worst.sorted { $0.key < $1.key })
    }

    func testBadMasksAreRefused() async throws {
        let conditioning = Conditioning([.init(embedding: Tensor(shape: [1, 77, 8]))])
        let values: [String: any Sendable] = [
            "conditioning": conditioning, "mask": Mask(Tensor(shape: [1, 1, 4, 4])), "strength": 1.0,
            "set_cond_area": "default",
        ]
        do {
            _ = try await ConditioningSetMask().execute(NodeInputs(values), context: context)
            XCTFail("a 4-D mask was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("input 'mask' must be [batch, height, width]"), "\(error)")
        }
        // A mask batch of 2 cannot be repeated over a latent batch of 3.
        let none = CFGGuidance.Entry(area: nil, strength: 1, denoise: Self.standIn(0))
        let three = CFGGuidance.Entry(area: nil, strength: 1, mask: Tensor(shape: [2, 2, 2]), denoise: Self.standIn(0))
        XCTAssertThrowsError(
            try CFGGuidance(positive: [three], negative: [none], cfg: 2).denoise(Tensor(shape: [3, 1, 2, 2]), sigma: 1)
        ) { error in XCTAssertTrue("\(error)".contains("does not fit a latent batch of 3"), "\(error)") }
    }
}
