import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The guidance nodes as MODEL / GUIDER patches on the tiny checkpoint: ComfyUI's schemas, the
/// input MODEL left unpatched, and what PAG, PerpNegGuider and DifferentialDiffusion do beyond
/// their functions (a second UNet call with the middle self-attention replaced, a third
/// prediction, the mask function), each against the same quantities computed by separate UNet calls.
final class GuidanceNodeTests: XCTestCase {
    static let model = ControlNetNodeTests.model
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func run<N: Node>(_ node: N, _ inputs: [String: any Sendable]) async throws -> any Sendable {
        try await node.execute(NodeInputs(inputs), context: context).values[0]
    }

    func testSchemasMatchComfyUI() {
        func check(_ schema: NodeSchema, _ inputs: [(String, Double?, Double?, Double?)], output: String) {
            XCTAssertEqual(schema.inputs.map(\.name), inputs.map(\.0), schema.classType)
            for (name, value, low, high) in inputs where value != nil {
                let spec = schema.input(named: name)!
                XCTAssertEqual(spec.defaultValue, .double(value!), "\(schema.classType).\(name)")
                XCTAssertEqual([spec.min, spec.max], [low, high], "\(schema.classType).\(name)")
            }
            XCTAssertEqual(schema.outputs.map(\.name), [output], schema.classType)
        }
        check(RescaleCFG.schema, [("model", nil, nil, nil), ("multiplier", 0.7, 0, 1)], output: "MODEL")
        check(CFGZeroStar.schema, [("model", nil, nil, nil)], output: "patched_model")
        check(CFGNorm.schema, [("model", nil, nil, nil), ("strength", 1, 0, 100)], output: "patched_model")
        check(TCFG.schema, [("model", nil, nil, nil)], output: "patched_model")
        check(EpsilonScaling.schema, [("model", nil, nil, nil), ("scaling_factor", 1.005, 0.5, 1.5)], output: "MODEL")
        check(
            PerpNeg.schema,
            [("model", nil, nil, nil), ("empty_conditioning", nil, nil, nil), ("neg_scale", 1, 0, 100)],
            output: "MODEL")
        check(
            PerpNegGuider.schema,
            [
                ("model", nil, nil, nil), ("positive", nil, nil, nil), ("negative", nil, nil, nil),
                ("empty_conditioning", nil, nil, nil), ("cfg", 8, 0, 100), ("neg_scale", 1, 0, 100),
            ], output: "GUIDER")
        check(DifferentialDiffusion.schema, [("model", nil, nil, nil), ("strength", 1, 0, 1)], output: "MODEL")
        XCTAssertTrue(DifferentialDiffusion.schema.input(named: "strength")!.isOptional)
        check(PerturbedAttentionGuidance.schema, [("model", nil, nil, nil), ("scale", 3, 0, 100)], output: "MODEL")
        XCTAssertEqual(EpsilonScaling.schema.classType, "Epsilon Scaling")
    }

    func embedding(_ seed: UInt64) throws -> Tensor {
        var generator = TorchCPUGenerator(seed: seed)
        return try generator.randn([1, 5, 32])
    }

    func testPerturbedAttentionGuidanceAddsTheScaledDifferenceToAPerturbedCall() async throws {
        let positive = Conditioning([.init(embedding: try embedding(1))])
        let negative = Conditioning([.init(embedding: try embedding(2))])
        let patched =
            try await run(PerturbedAttentionGuidance(), ["model": Self.model, "scale": 2.5]) as! DiffusionModel
        XCTAssertTrue(Self.model.guidance.isEmpty, "the input MODEL is not patched")
        XCTAssertEqual(patched.guidance.map(\.name), ["PerturbedAttentionGuidance"])
        var generator = TorchCPUGenerator(seed: 3)
        let x = try generator.randn([1, 4, 8, 8]).scaled(by: 4), sigma: Float = 3.2
        let out = try CFGDenoiser(model: patched, positive: positive, negative: negative, cfg: 3)
            .denoise(x, sigma: sigma)
        // The reference from separate UNet calls: CFG, plus 2.5·(cond − cond with identity middle attention).
        let cond = try CFGDenoiser.denoised(Self.model, positive.entries[0].embedding, x, sigma)
        let uncond = try CFGDenoiser.denoised(Self.model, negative.entries[0].embedding, x, sigma)
        let pag = try CFGDenoiser.denoised(
            Self.model, positive.entries[0].embedding, x, sigma, middleSelfAttention: { _, _, v, _ in v })
        let expected = try uncond.adding(cond.subtracting(uncond).scaled(by: 3))
            .adding(cond.subtracting(pag).scaled(by: 2.5))
        let error = zip(out.scalars, expected.scalars).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(error, 1e-5, "PAG max abs error \(error)")
        XCTAssertGreaterThan(zip(cond.scalars, pag.scalars).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testPerpNegGuiderCombinesThreePredictions() async throws {
        let (p, n, e) = (try embedding(4), try embedding(5), try embedding(6))
        let guider =
            try await run(
                PerpNegGuider(),
                [
                    "model": Self.model, "positive": Conditioning([.init(embedding: p)]),
                    "negative": Conditioning([.init(embedding: n)]),
                    "empty_conditioning": Conditioning([.init(embedding: e)]),
                    "cfg": 5.0, "neg_scale": 0.6,
                ]) as! Guider
        let perpNeg = try XCTUnwrap(guider.perpNeg)
        var generator = TorchCPUGenerator(seed: 7)
        let x = try generator.randn([1, 4, 8, 8]).scaled(by: 2), sigma: Float = 1.7
        let out = try CFGDenoiser(
            model: guider.model, positive: guider.positive, negative: guider.negative, cfg: guider.cfg,
            perpNeg: perpNeg
        ).denoise(x, sigma: sigma)
        let expected = try PerpNegGuidance.perpNeg(
            positive: CFGDenoiser.denoised(Self.model, p, x, sigma),
            negative: CFGDenoiser.denoised(Self.model, n, x, sigma),
            empty: CFGDenoiser.denoised(Self.model, e, x, sigma), negScale: 0.6, cfg: 5)
        XCTAssertLessThan(zip(out.scalars, expected.scalars).map { abs($0 - $1) }.max()!, 1e-5)
    }

    func testDifferentialDiffusionSetsTheMaskFunction() async throws {
        let patched = try await run(DifferentialDiffusion(), ["model": Self.model]) as! DiffusionModel
        XCTAssertNil(Self.model.denoiseMaskFunction)
        let function = try XCTUnwrap(patched.denoiseMaskFunction)
        let mask = try Tensor(shape: [1, 1, 1, 4], scalars: [0, 0.3, 0.6, 1])
        let sigmas: [Float] = [14.6, 3, 1, 0]
        // Default strength 1: binary at the threshold of the current step.
        XCTAssertEqual(
            try function(3, mask, sigmas, Self.model.sampling),
            try DifferentialDiffusionMask.mask(
                mask, sigma: 3, sigmas: sigmas, sampling: Self.model.sampling, strength: 1))
        XCTAssertEqual(try function(14.6, mask, sigmas, Self.model.sampling).scalars, [0, 0, 0, 1])
        XCTAssertEqual(try function(0.0292, mask, sigmas, Self.model.sampling).scalars, [1, 1, 1, 1])
    }
}
