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
