import Foundation
import LatentflowGraph
import LatentflowNodes
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 11 with real nodes: `"model": 5` or `"samples": 5` is refused at validation,
/// naming the node, the input and the type the link must carry.
final class SocketConstantMessageTests: XCTestCase {
    let executor = Executor(registry: try! NodeRegistry(packs: [BuiltinNodes.self, StubNodes.self]))

    func testKSamplerAndVAEDecodeRefuseConstantsForSockets() {
        let b = GraphBuilder()
        let sampler = b.add(
            "KSampler", id: "3",
            [
                "model": 5, "seed": 1, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": 5, "negative": 5, "latent_image": 5, "denoise": 1.0,
            ])
        let decode = b.add("VAEDecode", id: "8", ["samples": 5, "vae": 5])
        _ = sampler
        b.add("SaveImage", id: "9", ["images": decode.out(0), "filename_prefix": "x"])
        let errors = executor.validate(b.workflow).errors.filter { $0.kind == .badLinkedInput }
        let named = errors.map { "\($0.location?.nodeId ?? "?").\($0.location?.input ?? "?")" }
        XCTAssertEqual(Set(named), ["8.samples", "8.vae"], "\(errors)")
        let samples = errors.first { $0.location?.input == "samples" }
        XCTAssertEqual(samples?.details, "samples: expected a link to a LATENT output, got the constant 5")
        XCTAssertTrue(samples?.description.contains("node 8 (VAEDecode") == true, "\(String(describing: samples))")

        let alone = GraphBuilder()
        alone.add(
            "KSampler", id: "3",
            [
                "model": 5, "seed": 1, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": 5, "negative": 5, "latent_image": 5, "denoise": 1.0,
            ])
        let own = executor.validate(alone.workflow, targets: ["3"]).errors.filter { $0.kind == .badLinkedInput }
        XCTAssertEqual(Set(own.compactMap(\.location?.input)), ["model", "positive", "negative", "latent_image"])
        XCTAssertEqual(
            own.first { $0.location?.input == "model" }?.details,
            "model: expected a link to a MODEL output, got the constant 5")
    }
}
