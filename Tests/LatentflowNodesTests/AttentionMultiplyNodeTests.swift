import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// UNetSelfAttentionMultiply, UNetCrossAttentionMultiply and CLIPAttentionMultiply on the tiny SD1.5
/// checkpoint against ComfyUI v0.3.64's own nodes patched by its ModelPatcher
/// (scripts/make_attention_multiply_fixtures.py, Fixtures/attention_multiply.safetensors): the same
/// keys scaled to the same values (UNet float32, text encoder float16), the rest untouched, and the
/// rebuilt model in use.
final class AttentionMultiplyNodeTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/attention_multiply.safetensors").path)
    static var cases: [String: [String: Any]] {
        try! JSONSerialization.jsonObject(with: Data(file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
    }
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    static var text: TextEncoder { ModelMergeNodeTests.text(UNetPatchNodeTests.checkpoint) }

    static func inputs(_ name: String) -> [String: any Sendable] {
        let factors = (cases[name]!["factors"] as! [NSNumber]).map(\.doubleValue)
        return ["q": factors[0], "k": factors[1], "v": factors[2], "out": factors[3]]
    }

    /// The largest relative difference from ComfyUI over the patched keys, after checking that
    /// exactly ComfyUI's keys were patched and the others kept.
    func compare(_ result: [String: Parameter], _ original: [String: Parameter], case name: String) throws -> Float {
        let keys = Set(Self.cases[name]!["keys"] as! [String])
        let changed = Set(Self.cases[name]!["changed"] as! [String])
        var worst: Float = 0
        for (key, weight) in result {
            let values = weight.tensor().scalars
            if keys.contains(key) {
                let expected = try Self.file.tensor("\(name)/\(key)").scalars
                let scale = max(expected.map(abs).max() ?? 0, 1e-12)
                worst = max(worst, zip(values, expected).map { abs($0 - $1) }.max()! / scale)
            }
            if !changed.contains(key) {
                XCTAssertEqual(values, original[key]!.tensor().scalars, "\(name): \(key) changed")
            }
        }
        XCTAssertTrue(keys.isSubset(of: Set(result.keys)), "\(name): keys missing \(keys.subtracting(result.keys))")
        return worst
    }

    func testUNetAttentionMultiplyMatchesComfyUI() async throws {
        let model = UNetPatchNodeTests.model
        let plain = try await sample(model)
        for (name, node) in [
            ("self", UNetSelfAttentionMultiply() as any Node), ("cross", UNetCrossAttentionMultiply()),
        ] {
            var inputs = Self.inputs(name)
            inputs["model"] = model
            let result = try await node.execute(NodeInputs(inputs), context: context).values[0] as! DiffusionModel
            let error = try compare(result.weights, model.weights, case: name)
            print("\(name) attention multiply: relative error \(error)")
            XCTAssertLessThan(error, 1e-7, name)
            let patched = try await sample(result)
            XCTAssertNotEqual(patched.scalars, plain.scalars, "\(name): the rebuilt UNet is not in use")
        }
    }

    func testCLIPAttentionMultiplyMatchesComfyUI() async throws {
        let clip = Self.text
        var inputs = Self.inputs("clip")
        inputs["clip"] = clip
        let result =
            try await CLIPAttentionMultiply().execute(NodeInputs(inputs), context: context).values[0]
            as! TextEncoder
        let error = try compare(result.weights, clip.weights, case: "clip")
        print("CLIP attention multiply: relative error \(error)")
        XCTAssertLessThan(error, 1e-7)
        let tokens = [[49406, 320, 736, 7117, 49407]]
        XCTAssertNotEqual(try result.model.encode(tokens).scalars, try clip.model.encode(tokens).scalars)
    }

    /// bf16 sets the MODEL's precision and sampling then runs the UNet's products in bfloat16:
    /// the latent moves off float32's by bfloat16's rounding, no more; fp32 and fp16 compute in
    /// float32 (fp16 with a warning), and "default" takes the engine's setting (`--bf16-unet`).
    func testModelComputeDtypeSetsWhatTheUNetComputesIn() async throws {
        let warnings = ModelMergeNodeTests.Warnings()
        func context(_ settings: BuiltinNodeSettings) -> ExecutionContext {
            ExecutionContext(
                nodeId: "1", classType: "ModelComputeDtype", environment: ExecutionEnvironment(services: [settings]),
                events: { event in if case .warning(_, let message) = event { warnings.messages.append(message) } })
        }
        func precision(_ dtype: String, _ settings: BuiltinNodeSettings = BuiltinNodeSettings()) async throws
            -> DiffusionModel
        {
            let inputs: [String: any Sendable] = ["model": UNetPatchNodeTests.model, "dtype": dtype]
            return try await ModelComputeDtype().execute(NodeInputs(inputs), context: context(settings)).values[0]
                as! DiffusionModel
        }
        for dtype in ["default", "fp32", "fp16"] {
            let model = try await precision(dtype)
            XCTAssertEqual(model.computePrecision, .float32, dtype)
        }
        let bf16 = try await precision("bf16")
        XCTAssertEqual(bf16.computePrecision, .bfloat16)
        let engineDefault = try await precision("default", BuiltinNodeSettings(unetPrecision: .bfloat16))
        XCTAssertEqual(engineDefault.computePrecision, .bfloat16, "default takes --bf16-unet")
        XCTAssertEqual(warnings.messages.count, BFloat16GEMM.hasNativeKernel ? 1 : 2, "\(warnings.messages)")

        let float32 = try await sample(UNetPatchNodeTests.model), bfloat16 = try await sample(bf16)
        let scale = float32.scalars.map(abs).max()!
        let difference = zip(float32.scalars, bfloat16.scalars).map { abs($0 - $1) }.max()! / scale
        print("ModelComputeDtype bf16: largest difference from float32 \(difference) of the latent's range")
        XCTAssertGreaterThan(difference, 1e-5, "bf16 did not change the products")
        XCTAssertLessThan(difference, 3e-2, "bf16 is off by more than bfloat16's rounding")
    }

    /// `--bf16-unet` makes the checkpoint loaders store the UNet in bfloat16 (half its float32
    /// bytes; the text encoder and VAE as before) and compute it in bfloat16; low-memory mode keeps
    /// the weights in their file either way.
    func testBF16UNetLoadsTheUNetInBFloat16() async throws {
        func load(_ settings: BuiltinNodeSettings) async throws -> NodeOutputs {
            let paths = try ModelPaths(baseDirectory: UNetPatchNodeTests.repository)
            let context = ExecutionContext(
                nodeId: "1", classType: "CheckpointLoaderSimple",
                environment: ExecutionEnvironment(files: paths, services: [settings]))
            return try await CheckpointLoaderSimple().execute(
                NodeInputs(["ckpt_name": "latentflow-tiny-sd15.safetensors"]), context: context)
        }
        let float32 = try await load(BuiltinNodeSettings())
        let bfloat16 = try await load(BuiltinNodeSettings(unetPrecision: .bfloat16))
        let (a, b) = (float32.values[0] as! DiffusionModel, bfloat16.values[0] as! DiffusionModel)
        XCTAssertEqual(b.computePrecision, .bfloat16)
        XCTAssertEqual(b.weights.residentBytes * 2, a.weights.residentBytes)
        XCTAssertEqual(b.byteCount * 2, a.byteCount)
        for (key, weight) in b.weights.sorted(by: { $0.key < $1.key }).prefix(20) {
            let source = try XCTUnwrap(a.weights[key]).tensor()
            XCTAssertEqual(weight.tensor(), try Tensor(shape: source.shape, bfloat16Bits: source.bfloat16Bits), key)
        }
        XCTAssertEqual(
            (bfloat16.values[1] as! TextEncoder).byteCount, (float32.values[1] as! TextEncoder).byteCount, "CLIP")
        let lowMemory = try await load(BuiltinNodeSettings(lowMemory: true, unetPrecision: .bfloat16))
        XCTAssertEqual((lowMemory.values[0] as! DiffusionModel).weights.residentBytes, 0)
    }

    /// euler / normal, 2 steps, cfg 3, seed 7 on an 8x8 latent.
    func sample(_ model: DiffusionModel) async throws -> Tensor {
        let encoder = WeightedPromptEncoder(
            model: UNetPatchNodeTests.checkpoint.textModel!, tokenizer: .shared, lastLayer: -1)
        let positive = Conditioning([.init(embedding: try encoder.encode("a red circle"))])
        let negative = Conditioning([.init(embedding: try encoder.encode(""))])
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 7, "steps": 2, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": positive, "negative": negative, "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])),
                "denoise": 1.0,
            ]), context: context)
        return (out.values[0] as! Latent).samples
    }
}
