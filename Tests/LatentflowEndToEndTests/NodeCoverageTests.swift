import Latentflow
import XCTest

/// The coverage comparison itself, on a hand-made snapshot whose differences are known.
final class NodeCoverageTests: XCTestCase {
    let registry = try! NodeRegistry(packs: [BuiltinNodes.self])

    func coverage(_ json: String) throws -> NodeCoverage {
        try NodeCoverage(snapshot: try JSONValue.parse(json), registry: registry)
    }

    func testAMatchingEntryIsImplemented() throws {
        let result = try coverage(
            """
            {"EmptyLatentImage": {"input": {"required": {
                "width": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                "height": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                "batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}]}},
              "output": ["LATENT"], "category": "latent"},
             "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [["<folder:checkpoints>"]]}},
              "output": ["MODEL", "CLIP", "VAE"], "category": "loaders"}}
            """)
        XCTAssertEqual(
            result.entries.map(\.status), [.implemented, .implemented], "\(result.entries.map(\.differences))")
    }

    func testMissingNodesAndEachKindOfDifferenceAreReported() throws {
        let result = try coverage(
            """
            {"NoSuchNode": {"input": {"required": {}}, "output": ["MODEL"], "category": "x"},
             "EmptyLatentImage": {"input": {"required": {
                "width": ["INT", {"default": 256, "min": 16, "max": 16384, "step": 8}],
                "height": ["FLOAT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                "depth": ["INT", {"default": 1}]},
                "optional": {"batch_size": ["INT", {"default": 1, "min": 1, "max": 64}]}},
              "output": ["LATENT", "INT"], "category": "latent"}}
            """)
        XCTAssertEqual(result.entries[0].status, .missing)
        let differences = result.entries[1].differences
        XCTAssertEqual(result.entries[1].status, .differs)
        for expected in [
            "input 'width': default is 512, ComfyUI's is 256", "input 'height': type is INT, ComfyUI's is FLOAT",
            "input 'depth' (required in ComfyUI) is missing", "input 'batch_size' is optional in ComfyUI",
            "input 'batch_size': max is 4096.0, ComfyUI's is 64.0",
            "outputs are [\"LATENT\"], ComfyUI's are [\"LATENT\", \"INT\"]",
        ] {
            XCTAssertTrue(differences.contains(expected), "\(expected) not in \(differences)")
        }
        XCTAssertEqual(differences.count, 6, "\(differences)")
    }

    func testComboOptionsAreCompared() throws {
        let result = try coverage(
            """
            {"LatentUpscale": {"input": {"required": {"samples": ["LATENT"],
                "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic", "bislerp", "lanczos"]],
                "width": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 8}],
                "height": ["INT", {"default": 512, "min": 0, "max": 16384, "step": 8}],
                "crop": [["center", "disabled"]]}},
              "output": ["LATENT"], "category": "latent"}}
            """)
        let differences = result.entries[0].differences
        XCTAssertTrue(differences.contains("input 'upscale_method': missing options [\"lanczos\"]"), "\(differences)")
        XCTAssertTrue(differences.contains("input 'crop': options are in another order"), "\(differences)")
    }
}

/// The registry against ComfyUI v0.3.64's SD1.5/SD2 node set (Fixtures/comfyui-object-info-sd.json,
/// computed by ComfyUI itself: scripts/comfyui-snapshot/). Every node the snapshot lists must be
/// implemented with ComfyUI's schema, except the ones Fixtures/coverage-gaps.txt still names: a new
/// gap (a regression) fails, and so does a gap that has been closed without striking it off the list.
final class ComfyUICoverageTests: XCTestCase {
    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    func testEverySnapshotNodeIsImplementedOrAKnownGap() throws {
        let snapshot = try JSONValue.parse(try Data(contentsOf: Self.fixture("comfyui-object-info-sd.json")))
        let coverage = try NodeCoverage(snapshot: snapshot, registry: try NodeRegistry(packs: [BuiltinNodes.self]))
        let known = Set(
            try String(contentsOf: Self.fixture("coverage-gaps.txt"), encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
        let gaps = coverage.entries.filter { $0.status != .implemented }
        print(
            "ComfyUI v0.3.64 SD1.5/SD2 nodes: \(coverage.entries.count); implemented \(coverage.count(.implemented)), "
                + "differing \(coverage.count(.differs)), missing \(coverage.count(.missing))")
        for gap in gaps where !known.contains(gap.classType) {
            XCTFail("\(gap.classType) is \(gap.status.rawValue): \(gap.differences.joined(separator: "; "))")
        }
        let closed = known.subtracting(gaps.map(\.classType))
        XCTAssertEqual(closed, [], "implemented now: strike these off Fixtures/coverage-gaps.txt")
    }
}
