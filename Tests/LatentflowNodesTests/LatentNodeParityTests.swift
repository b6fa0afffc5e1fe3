import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// Latent and conditioning nodes against ComfyUI's, on the cases `scripts/make_latent_node_fixtures.py` wrote.
final class LatentNodeParityTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(
            forResource: "latent_nodes", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        let json = file.metadata["cases"]!.data(using: .utf8)!
        return try! JSONSerialization.jsonObject(with: json) as! [String: [String: Any]]
    }()

    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    /// Node input names for the fixture's tensor roles.
    static let roleNames = [
        "to": "samples_to", "from": "samples_from", "samples": "samples", "samples1": "samples1",
        "samples2": "samples2",
    ]

    static let floatInputs: Set = ["blend_factor", "multiplier", "ratio", "conditioning_to_strength"]

    func input(_ name: String, _ role: String) throws -> Tensor {
        let key = (Self.cases[name]!["inputs"] as! [String: String])[role]!
        return try Self.file.tensor(key)
    }

    func run(_ node: some Node, _ values: [String: any Sendable]) async throws -> any Sendable {
        try await node.execute(NodeInputs(values), context: context).values[0]
    }

    static func node(_ name: String) -> any Node.Type {
        BuiltinNodes.nodes.first { $0.schema.classType == name }!
    }

    /// Runs one case and returns the max |ours − ComfyUI's|.
    func runCase(_ name: String) async throws -> Float {
        let spec = Self.cases[name]!
        let node = spec["node"] as! String
        var values: [String: any Sendable] = [:]
        for (key, value) in spec where !["node", "inputs"].contains(key) {
            if let number = value as? NSNumber {
                values[key] = Self.floatInputs.contains(key) ? number.doubleValue : number.intValue
            } else if let text = value as? String {
                values[key] = text
            }
        }
        let actual: Tensor
        if node.hasPrefix("Conditioning") {
            let conditioning = { (role: String) in
                Conditioning([Conditioning.Entry(embedding: try self.input(name, role))])
            }
            if node == "ConditioningZeroOut" {
                values["conditioning"] = try conditioning("conditioning")
            } else {
                values["conditioning_to"] = try conditioning("to")
                values["conditioning_from"] = try conditioning("from")
            }
            let output = try await run(Self.node(node).init(), values) as! Conditioning
            actual = output.entries[0].embedding
        } else {
            for role in (spec["inputs"] as! [String: String]).keys {
                values[Self.roleNames[role]!] = Latent(try input(name, role))
            }
            actual = (try await run(Self.node(node).init(), values) as! Latent).samples
        }
        let expected = try Self.file.tensor("\(name).expected")
        XCTAssertEqual(actual.shape, expected.shape, name)
        guard actual.shape == expected.shape else { return .infinity }
        return zip(actual.scalars, expected.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    func testNodesMatchComfyUI() async throws {
        var worst: [String: Float] = [:]
        for name in Self.cases.keys.sorted() {
            let error = try await runCase(name)
            let node = Self.cases[name]!["node"] as! String
            worst[node] = max(worst[node] ?? 0, error)
            // Copies, flips, crops and single float ops are exact; resizes and norms are within rounding.
            let tolerance: Float =
                ["add_resize", "batch_resize"].contains(name) || ["LatentInterpolate", "LatentUpscale"].contains(node)
                ? 1e-6 : 0
            XCTAssertLessThanOrEqual(error, tolerance, name)
        }
        print("latent node parity (max abs error):", worst.sorted { $0.key < $1.key })
    }

    func testBatchIndices() async throws {
        let samples = Tensor(shape: [2, 4, 2, 2])
        let batch = try await run(
            LatentBatch(), ["samples1": Latent(samples, batchIndex: [3, 4]), "samples2": Latent(samples)])
        XCTAssertEqual((batch as! Latent).batchIndex, [3, 4, 0, 1])
        let fixed = try await run(
            LatentBatchSeedBehavior(), ["samples": Latent(samples, batchIndex: [5, 6]), "seed_behavior": "fixed"])
        XCTAssertEqual((fixed as! Latent).batchIndex, [5, 5])
        let fixedDefault = try await run(
            LatentBatchSeedBehavior(), ["samples": Latent(samples), "seed_behavior": "fixed"])
        XCTAssertEqual((fixedDefault as! Latent).batchIndex, [0, 0])
        let random = try await run(
            LatentBatchSeedBehavior(), ["samples": Latent(samples, batchIndex: [5, 6]), "seed_behavior": "random"])
        XCTAssertNil((random as! Latent).batchIndex)
    }

    func testConditioningEntryFields() async throws {
        var entry = Conditioning.Entry(embedding: Tensor(shape: [1, 2, 3], repeating: 1))
        entry.area = (height: 8, width: 8, y: 0, x: 0)
        let strength = try await run(
            ConditioningSetAreaStrength(), ["conditioning": Conditioning([entry]), "strength": 2.5])
        XCTAssertEqual((strength as! Conditioning).entries[0].strength, 2.5)
        XCTAssertEqual((strength as! Conditioning).entries[0].area?.height, 8)
        let range = try await run(
            ConditioningSetTimestepRange(), ["conditioning": Conditioning([entry]), "start": 0.25, "end": 0.75])
        XCTAssertEqual((range as! Conditioning).entries[0].startPercent, 0.25)
        XCTAssertEqual((range as! Conditioning).entries[0].endPercent, 0.75)

        // Python round() (ties to even) on a 5 × 6 latent, sizes at least 1, as ComfyUI resolves it.
        let percentage = try await run(
            ConditioningSetAreaPercentage(),
            ["conditioning": Conditioning([entry]), "width": 0.05, "height": 0.5, "x": 0.7, "y": 0.3, "strength": 1.5])
        let stored = (percentage as! Conditioning).entries[0]
        XCTAssertNil(stored.area)
        XCTAssertEqual(stored.strength, 1.5)
        let resolved = (percentage as! Conditioning).resolvingAreaFractions(height: 5, width: 6).entries[0]
        XCTAssertEqual(resolved.area?.height, 2)
        XCTAssertEqual(resolved.area?.width, 1)
        XCTAssertEqual(resolved.area?.y, 2)
        XCTAssertEqual(resolved.area?.x, 4)
    }
}
