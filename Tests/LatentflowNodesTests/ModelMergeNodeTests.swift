import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The merge nodes against a torch transcription of ComfyUI's `add_patches` + `calculate_weight`
/// (scripts/make_merge_fixtures.py) on the two tiny checkpoints. The same float32 operations in
/// the same order: the weights must agree exactly (the CLIP ones after rounding to float16).
final class ModelMergeNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func checkpoint(_ name: String) -> StableDiffusionModels {
        try! StableDiffusionCheckpoint.load(
            path: repository.appendingPathComponent("models/checkpoints/\(name).safetensors").path)
    }
    static let first = checkpoint("latentflow-tiny-sd15")
    static let second = checkpoint("latentflow-tiny-sd15-inpainting")
    static let reference = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "model_merge", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)
    static let environment = ExecutionEnvironment(
        files: try! ModelPaths(baseDirectory: repository), services: [BuiltinNodeSettings()])

    final class Warnings: @unchecked Sendable {
        var messages: [String] = []
    }

    func run<N: Node>(_ node: N, _ values: [String: any Sendable], warnings: Warnings = Warnings()) async throws
        -> any Sendable
    {
        let context = ExecutionContext(
            nodeId: "1", classType: N.schema.classType, environment: Self.environment,
            events: { event in if case .warning(_, let message) = event { warnings.messages.append(message) } })
        return try await node.execute(NodeInputs(values), context: context).values[0]
    }

    static func text(_ models: StableDiffusionModels) -> TextEncoder {
        TextEncoder(
            model: models.textModel!, byteCount: models.textBytes, weights: models.textWeights,
            weightsAreFloat16: models.textWeightsAreFloat16)
    }

    func assertMatches(
        _ weights: [String: Parameter], case name: String, file: StaticString = #filePath, line: UInt = #line
    )
        throws
    {
        let keys = Self.reference.keys.filter { $0.hasPrefix(name + "/") }
        XCTAssertFalse(keys.isEmpty, name, file: file, line: line)
        for key in keys {
            let weightKey = String(key.dropFirst(name.count + 1))
            let expected = try Self.reference.tensor(key)
            guard let found = weights[weightKey]?.tensor() else {
                XCTFail("\(name): no \(weightKey)", file: file, line: line)
                continue
            }
            XCTAssertEqual(found.shape, expected.shape, key, file: file, line: line)
            XCTAssertEqual(found.scalars, expected.scalars, key, file: file, line: line)
        }
    }

    func testModelMergesMatchComfyUI() async throws {
        let (m1, m2) = (DiffusionModel(Self.first), DiffusionModel(Self.second))
        let warnings = Warnings()
        let simple = try await run(ModelMergeSimple(), ["model1": m1, "model2": m2, "ratio": 0.3], warnings: warnings)
        try assertMatches((simple as! DiffusionModel).weights, case: "simple")
        // input_blocks.0.0.weight: 4 vs 9 input channels, kept from model1 with a warning.
        XCTAssertTrue(warnings.messages.contains { $0.contains("input_blocks.0.0.weight") }, "\(warnings.messages)")

        let blocks = try await run(
            ModelMergeBlocks(), ["model1": m1, "model2": m2, "input": 0.2, "middle": 0.55, "out": 0.9])
        try assertMatches((blocks as! DiffusionModel).weights, case: "blocks")

        var sd1: [String: any Sendable] = ["model1": m1, "model2": m2, "time_embed.": 0.15, "label_emb.": 0.5]
        for i in 0..<12 { sd1["input_blocks.\(i)."] = 0.05 * Double(i) }
        for i in 0..<3 { sd1["middle_block.\(i)."] = 0.4 + 0.1 * Double(i) }
        for i in 0..<12 { sd1["output_blocks.\(i)."] = 1.0 - 0.07 * Double(i) }
        sd1["out."] = 0.35
        try assertMatches((try await run(ModelMergeSD1(), sd1) as! DiffusionModel).weights, case: "sd1")
        try assertMatches((try await run(ModelMergeSD2(), sd1) as! DiffusionModel).weights, case: "sd1")

        let subtract = try await run(ModelMergeSubtract(), ["model1": m1, "model2": m2, "multiplier": 0.6])
        try assertMatches((subtract as! DiffusionModel).weights, case: "subtract")
        let add = try await run(ModelMergeAdd(), ["model1": m1, "model2": m2])
        try assertMatches((add as! DiffusionModel).weights, case: "add")
    }

    func testCLIPMergesMatchComfyUI() async throws {
        let (c1, c2) = (Self.text(Self.first), Self.text(Self.second))
        let simple = try await run(CLIPMergeSimple(), ["clip1": c1, "clip2": c2, "ratio": 0.25])
        try assertMatches((simple as! TextEncoder).weights, case: "clip_simple")
        let subtract = try await run(CLIPMergeSubtract(), ["clip1": c1, "clip2": c2, "multiplier": 1.5])
        try assertMatches((subtract as! TextEncoder).weights, case: "clip_subtract")
        let add = try await run(CLIPMergeAdd(), ["clip1": c1, "clip2": c2])
        try assertMatches((add as! TextEncoder).weights, case: "clip_add")
    }

    /// The merged UNet runs the merged weights: ratio 1 keeps model1's output, and a merge changes it.
    func testMergedModelIsRebuiltFromTheMergedWeights() async throws {
        let (m1, m2) = (DiffusionModel(Self.first), DiffusionModel(Self.second))
        let x = try Tensor(shape: [1, 4, 8, 8], scalars: (0..<256).map { Float(sin(Double($0) * 0.37)) })
        let context = try Tensor(shape: [1, 77, 32], scalars: (0..<(77 * 32)).map { Float(cos(Double($0) * 0.11)) })
        func output(_ model: DiffusionModel) throws -> [Float] {
            try model.unet(x, timesteps: [500], context: context).scalars
        }
        let same = try await run(ModelMergeSimple(), ["model1": m1, "model2": m2, "ratio": 1.0]) as! DiffusionModel
        XCTAssertEqual(try output(same), try output(m1))
        let half = try await run(ModelMergeSimple(), ["model1": m1, "model2": m2, "ratio": 0.5]) as! DiffusionModel
        XCTAssertNotEqual(try output(half), try output(m1))
    }

    /// A merge takes model2 with its LoRA applied, as ComfyUI's `get_key_patches` hands it over:
    /// merging model1 with LoRA(model1, s) at ratio r is LoRA(model1, (1 − r)·s).
    func testMergeComposesWithLoRA() async throws {
        let m1 = DiffusionModel(Self.first)
        let c1 = Self.text(Self.first)
        func lora(_ strength: Double) async throws -> (DiffusionModel, TextEncoder) {
            let context = ExecutionContext(nodeId: "1", classType: "LoraLoader", environment: Self.environment)
            let out = try await LoraLoader().execute(
                NodeInputs([
                    "model": m1, "clip": c1, "lora_name": "latentflow-tiny-lora.safetensors",
                    "strength_model": strength, "strength_clip": strength,
                ]), context: context)
            return (out.values[0] as! DiffusionModel, out.values[1] as! TextEncoder)
        }
        let (patched, patchedClip) = try await lora(0.8)
        let (expected, _) = try await lora(0.8 * 0.75)
        let merged =
            try await run(ModelMergeSimple(), ["model1": m1, "model2": patched, "ratio": 0.25]) as! DiffusionModel
        var compared = 0
        for (key, weight) in expected.weights where weight.tensor().scalars != m1.weights[key]!.tensor().scalars {
            let a = merged.weights[key]!.tensor().scalars, b = weight.tensor().scalars
            let scale = b.map(abs).max() ?? 1
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()! / scale, 1e-6, key)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 0, "the LoRA patched no UNet weight")
        let mergedClip =
            try await run(CLIPMergeSimple(), ["clip1": c1, "clip2": patchedClip, "ratio": 0.0]) as! TextEncoder
        for (key, weight) in patchedClip.weights where !key.hasSuffix("position_ids") {
            XCTAssertEqual(mergedClip.weights[key]!.tensor().scalars, weight.tensor().scalars, key)
        }
    }
}
