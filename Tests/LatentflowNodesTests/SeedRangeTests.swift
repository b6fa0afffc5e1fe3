import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import LatentflowSampling
import XCTest

/// Seeds past Int64.max (ComfyUI's seed widgets go up to 2^64 − 1) against ComfyUI v0.3.64's own
/// `prepare_noise` and `ImageAddNoise`, recorded by `scripts/make_seed_range_fixtures.py`.
final class SeedRangeTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "seed_range", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()
    static var seeds: [UInt64] {
        let json = try! JSONSerialization.jsonObject(with: Data(file.metadata["seeds"]!.utf8)) as! [String]
        return json.map { UInt64($0)! }
    }

    func testInitialNoiseMatchesComfyUIForSeedsPastInt64() throws {
        XCTAssertEqual(Self.seeds.count, 3)
        for seed in Self.seeds {
            let noise = try comfyInitialNoise(shape: [1, 4, 5, 5], seed: seed)
            XCTAssertEqual(noise.scalars, try Self.file.tensor("noise_\(seed)").scalars, "seed \(seed)")
        }
    }

    func testImageAddNoiseMatchesComfyUIForSeedsPastInt64() async throws {
        let node = BuiltinNodes.nodes.first { $0.schema.classType == "ImageAddNoise" }!
        let context = ExecutionContext(nodeId: "1", classType: "ImageAddNoise", environment: ExecutionEnvironment())
        for seed in Self.seeds {
            // The validator hands a seed input the seed's 64 bits in an Int (NumberValidationTests).
            let inputs = NodeInputs([
                "image": ImageBatch(try Self.file.tensor("image")), "seed": Int(Int64(bitPattern: seed)),
                "strength": 0.5,
            ])
            let image = try await node.init().execute(inputs, context: context).values[0] as! ImageBatch
            let expected = try Self.file.tensor("add_noise_\(seed)").scalars
            let worst = zip(image.pixels.scalars, expected).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-7, "seed \(seed)")
        }
    }

    /// The five seed inputs ComfyUI declares with a maximum of 2^64 − 1 take it, and report it in
    /// object_info as ComfyUI does (ComfyUICoverageTests compares the schemas).
    func testSeedInputsOfTheSamplingNodesAcceptTheMaximum() throws {
        let registry = try NodeRegistry(packs: [BuiltinNodes.self])
        let executor = Executor(registry: registry)
        let workflow = try Workflow(
            apiJSON: JSONValue.parse(
                #"{"1": {"class_type": "RandomNoise", "inputs": {"noise_seed": 18446744073709551615}}}"#))
        XCTAssertEqual(executor.validate(workflow, targets: ["1"]).errors, [])
        for (classType, input) in [
            ("KSampler", "seed"), ("KSamplerAdvanced", "noise_seed"), ("RandomNoise", "noise_seed"),
            ("SamplerCustom", "noise_seed"), ("ImageAddNoise", "seed"),
        ] {
            let spec = registry.node(classType)?.schema.inputs.first { $0.name == input }
            XCTAssertEqual(spec?.max, Double(UInt64.max), classType)
            XCTAssertEqual(spec?.takesUnsigned64, true, classType)
        }
    }
}
