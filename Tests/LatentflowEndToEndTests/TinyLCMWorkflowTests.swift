import Foundation
import Latentflow
import XCTest

/// The embedded tiny checkpoint through real workflows: ready-to-run files, caching across runs,
/// and ComfyUI's own SD1.5 templates.
final class TinyLCMWorkflowTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var output: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-e2e-\(UUID().uuidString)")
        engine = try Engine(paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    func load(_ path: String, size: Int = 64) throws -> LoadedWorkflow {
        var loaded = try engine.load(Self.repository.appendingPathComponent(path))
        try loaded.apply(overrides: ["5.width=\(size)", "5.height=\(size)"])
        return loaded
    }

    func testLCMWorkflowWritesAPNGComfyUICanLoad() async throws {
        let result = try await engine.run(try load("workflows/lcm-tiny.json"))
        let files = engine.writtenFiles(result)
        XCTAssertEqual(files.count, 1)
        let image = try ImageCodec.read(path: files[0].path)
        XCTAssertEqual([image.width, image.height, image.channels], [64, 64, 3])
        let prompt = try JSONValue.parse(XCTUnwrap(image.text("prompt")))
        XCTAssertEqual(prompt["6"]?["class_type"], .string("KSampler"))
        XCTAssertEqual(
            try engine.loader.load(Data(contentsOf: files[0]), source: "png").workflow["6"]?.input("sampler_name"),
            .constant(.string("lcm")))
        // Not a flat image: the decoder produced structure.
        guard case .uint8(let pixels) = image.samples else { return XCTFail("8-bit expected") }
        XCTAssertGreaterThan(Set(pixels).count, 50)
    }

    /// A new seed re-runs sampling, decoding and saving only: the checkpoint is not reloaded
    /// and the prompts are not re-encoded.
    func testChangingTheSeedReusesModelsAndPrompts() async throws {
        var loaded = try load("workflows/lcm-tiny.json")
        let first = try await engine.run(loaded)
        XCTAssertEqual(Set(first.executed), ["1", "2", "3", "4", "5", "6", "7", "8"])
        try loaded.apply(overrides: ["6.seed=43"])
        let second = try await engine.run(loaded)
        XCTAssertEqual(Set(second.executed), ["6", "7", "8"])
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        XCTAssertEqual(files, ["lcm-tiny_00001_.png", "lcm-tiny_00002_.png"])
        let a = try Data(contentsOf: output.appendingPathComponent(files[0])),
            b = try Data(contentsOf: output.appendingPathComponent(files[1]))
        XCTAssertNotEqual(a, b, "another seed, another image")
    }

    /// Low-memory mode (weights left in the checkpoint file, widened per layer) writes the very
    /// same image.
    func testLowMemoryModeWritesTheSameImage() async throws {
        let lowMemoryOutput = output.appendingPathComponent("low-memory")
        let lowMemory = try Engine(
            paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: lowMemoryOutput), lowMemory: true)
        let workflow = try load("workflows/lcm-tiny.json")
        let a = try engine.writtenFiles(await engine.run(workflow))
        let b = try lowMemory.writtenFiles(await lowMemory.run(workflow))
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(try ImageCodec.read(path: a[0].path).samples, try ImageCodec.read(path: b[0].path).samples)
    }

    /// Cancelling between sampler steps stops the run; nothing is written.
    func testCancellationBetweenSteps() async throws {
        let flag = CancellationFlag()
        do {
            _ = try await engine.run(try load("workflows/lcm-tiny.json"), cancellation: flag) { event in
                if case .progress(_, let step, _) = event, step == 2 { flag.cancel() }
            }
            XCTFail("expected cancellation")
        } catch is ExecutionCancelled {}
        let written = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        XCTAssertEqual(written, [])
    }

    /// ComfyUI's SD1.5 UI-format templates convert, validate and run at 64x64 with the tiny model,
    /// LoRA, a VAE cut from it and the example image substituted for the files they name.
    func testComfyUITemplates() async throws {
        let templates = Self.repository.deletingLastPathComponent().appendingPathComponent("shared/comfyui-templates")
        guard FileManager.default.fileExists(atPath: templates.path) else {
            throw XCTSkip("the ComfyUI templates are not beside this checkout (../shared/comfyui-templates)")
        }
        let names = [
            "default", "image2image", "lora", "lora_multiple", "hiresfix_latent_workflow",
            "latent_upscale_different_prompt_model", "area_composition", "area_composition_square_area_for_subject",
            "embedding_example", "inpaint_example", "inpaint_model_outpainting",
            "controlnet_example", "depth_controlnet", "depth_t2i_adapter", "mixing_controlnets", "2_pass_pose_worship",
            "esrgan_example", "hiresfix_esrgan_workflow",
            "gligen_textbox_example",
        ]
        let ran = try await runTinyStandIns(names.map { templates.appendingPathComponent("\($0).json") })
        XCTAssertEqual(ran.count, names.count, "ran \(ran)")
    }

    /// Published ComfyUI workflows that are not in the repository (UI format, one per file) in the
    /// folder `LATENTFLOW_EXAMPLE_WORKFLOWS` names, run as the templates are; the count that ran is
    /// printed. Skipped when the variable is unset. unCLIPCheckpointLoader gets the tiny unCLIP
    /// checkpoint (the frontend's unclip_unclip_example, _example_multiple and _2pass run on it).
    func testExampleWorkflowsFromElsewhere() async throws {
        guard let folder = ProcessInfo.processInfo.environment["LATENTFLOW_EXAMPLE_WORKFLOWS"] else {
            throw XCTSkip("set LATENTFLOW_EXAMPLE_WORKFLOWS to a folder of UI-format workflows")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
            .sorted()
        let ran = try await runTinyStandIns(
            files.map { URL(fileURLWithPath: folder).appendingPathComponent($0) }, recordFailures: false)
        print(
            "example workflows: \(ran.count) of \(files.count) ran; not run: \(Set(files.map { String($0.dropLast(5)) }).subtracting(ran).sorted())"
        )
    }

    /// Loads, validates and runs each UI-format workflow with the tiny models and the example image
    /// in place of the files it names, at 64x64 and 2 steps; returns the names that ran.
    func runTinyStandIns(_ files: [URL], recordFailures: Bool = true) async throws -> [String] {
        // A standalone VAE file, cut from the tiny checkpoint, in a models folder of its own.
        let vaeFolder = output.appendingPathComponent("vae")
        try FileManager.default.createDirectory(at: vaeFolder, withIntermediateDirectories: true)
        let checkpoint = try SafeTensorsFile(
            path: Self.repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path)
        try SafeTensorsWriter.write(
            try checkpoint.keys.filter { $0.hasPrefix("first_stage_model.") }
                .map {
                    SafeTensorsWriter.Item(String($0.dropFirst("first_stage_model.".count)), try checkpoint.tensor($0))
                },
            to: vaeFolder.appendingPathComponent("tiny-vae.safetensors"))
        // A tiny SD2.1-unCLIP-layout checkpoint for unCLIPCheckpointLoader, put together as
        // UnCLIPCheckpointLoaderTests does (scripts/make_unclip_checkpoint_fixtures.py).
        let checkpointFolder = output.appendingPathComponent("checkpoints")
        try FileManager.default.createDirectory(at: checkpointFolder, withIntermediateDirectories: true)
        try Self.writeTinyUnCLIPCheckpoint(
            to: checkpointFolder.appendingPathComponent("latentflow-tiny-unclip.safetensors"))
        let yaml = output.appendingPathComponent("extra_model_paths.yaml")
        try Data("tests:\n    vae: \(vaeFolder.path)\n    checkpoints: \(checkpointFolder.path)\n".utf8).write(to: yaml)
        let engine = try Engine(
            paths: ModelPaths(
                baseDirectory: Self.repository, outputDirectory: output.appendingPathComponent("out"),
                extraPaths: [yaml]))

        let substitutes = [
            "ckpt_name": "latentflow-tiny-sd15.safetensors", "lora_name": "latentflow-tiny-lora.safetensors",
            "vae_name": "tiny-vae.safetensors", "image": "example-gradient.png",
            "control_net_name": "latentflow-tiny-controlnet.safetensors",
            "model_name": "latentflow-tiny-esrgan-x4.safetensors",
            "gligen_name": "latentflow-tiny-gligen.safetensors",
            "hypernetwork_name": "latentflow-tiny-hypernetwork.pt",
        ]
        var ran: [String] = []
        for file in files {
            let name = file.deletingPathExtension().lastPathComponent
            var loaded = try engine.load(file)
            var files = substitutes
            // The inpainting workflows load SD2's 512-inpainting-ema: the tiny 9-channel stand-in.
            if name.hasPrefix("inpaint") { files["ckpt_name"] = "latentflow-tiny-sd15-inpainting.safetensors" }
            if name.contains("t2i_adapter") { files["control_net_name"] = "latentflow-tiny-t2i-adapter.safetensors" }
            for index in loaded.workflow.nodes.indices {
                for (input, file) in files {
                    guard case .constant? = loaded.workflow.nodes[index].input(input) else { continue }
                    loaded.workflow.nodes[index].set(input, .constant(.string(file)))
                }
                if loaded.workflow.nodes[index].classType == "unCLIPCheckpointLoader" {
                    loaded.workflow.nodes[index].set(
                        "ckpt_name", .constant(.string("latentflow-tiny-unclip.safetensors")))
                }
                if loaded.workflow.nodes[index].classType == "EmptyLatentImage" {
                    loaded.workflow.nodes[index].set("width", .constant(.int(64)))
                    loaded.workflow.nodes[index].set("height", .constant(.int(64)))
                }
                if loaded.workflow.nodes[index].classType == "LatentUpscale" {
                    loaded.workflow.nodes[index].set("width", .constant(.int(96)))
                    loaded.workflow.nodes[index].set("height", .constant(.int(96)))
                }
                if loaded.workflow.nodes[index].classType == "ImageScale" {
                    loaded.workflow.nodes[index].set("width", .constant(.int(128)))
                    loaded.workflow.nodes[index].set("height", .constant(.int(128)))
                }
                if loaded.workflow.nodes[index].classType == "ImageScaleToTotalPixels" {
                    loaded.workflow.nodes[index].set("megapixels", .constant(.double(0.01)))
                }
                if loaded.workflow.nodes[index].input("steps") != nil {
                    loaded.workflow.nodes[index].set("steps", .constant(.int(2)))
                }
            }
            let report = engine.validate(loaded)
            if recordFailures { XCTAssertEqual(report.errors.map { "\($0)" }, [], name) }
            guard report.errors.isEmpty else {
                print("workflow \(name) does not validate: \(report.errors.map { "\($0)" })")
                continue
            }
            let started = Date()
            do {
                let result = try await engine.run(loaded)
                if recordFailures { XCTAssertFalse(engine.writtenFiles(result).isEmpty, name) }
                print("workflow \(name) ran in \(Date().timeIntervalSince(started)) s")
                ran.append(name)
            } catch {
                if recordFailures { XCTFail("\(name): \(error)") }
                print("workflow \(name) failed: \(error)")
            }
        }
        return ran
    }

    /// The tiny SD1.5 checkpoint with unet_adm's class embedding and the unCLIP fixture's OpenCLIP-layout
    /// image tower and noise-augmentor buffers (its `file.*` tensors).
    static func writeTinyUnCLIPCheckpoint(to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        let sources = [
            ("models/checkpoints/latentflow-tiny-sd15.safetensors", ""),
            ("Tests/LatentflowModelsTests/Fixtures/unet_adm.safetensors", "model."),
            ("Tests/LatentflowNodesTests/Fixtures/unclip_checkpoint.safetensors", "file."),
        ]
        for (path, prefix) in sources {
            let file = try SafeTensorsFile(path: repository.appendingPathComponent(path).path)
            for key in file.keys where key.hasPrefix(prefix) {
                tensors[prefix == "file." ? String(key.dropFirst(prefix.count)) : key] = try file.tensor(key)
            }
        }
        try SafeTensorsWriter.write(tensors.keys.sorted().map { SafeTensorsWriter.Item($0, tensors[$0]!) }, to: url)
    }

    func testLatentsSaveAndLoadExactly() async throws {
        var loaded = try load("workflows/lcm-tiny.json")
        loaded.workflow["9"] = WorkflowNode(
            id: "9", classType: "SaveLatent",
            inputs: [
                ("samples", .link(nodeId: "6", slot: 0)),
                ("filename_prefix", .constant(.string("latents/test"))),
            ])
        let result = try await engine.run(loaded)
        let file = output.appendingPathComponent("latents/test_00001_.latent")
        let saved = try SafeTensorsFile(path: file.path)
        XCTAssertEqual(Set(saved.keys), ["latent_tensor", "latent_format_version_0"])
        XCTAssertEqual(try saved.tensor("latent_tensor").shape, [1, 4, 8, 8])
        XCTAssertNotNil(saved.metadata["prompt"])
        XCTAssertEqual(result.ui.count, 2)
    }

    /// SamplerCustom with KSamplerSelect + BasicScheduler gives exactly KSampler's latent.
    func testSamplerCustomMatchesKSampler() async throws {
        var loaded = try load("workflows/lcm-tiny.json")
        let nodes: [WorkflowNode] = [
            WorkflowNode(id: "20", classType: "KSamplerSelect", inputs: [("sampler_name", .constant(.string("lcm")))]),
            WorkflowNode(
                id: "21", classType: "BasicScheduler",
                inputs: [
                    ("model", .link(nodeId: "2", slot: 0)), ("scheduler", .constant(.string("sgm_uniform"))),
                    ("steps", .constant(.int(4))), ("denoise", .constant(.double(1))),
                ]),
            WorkflowNode(
                id: "22", classType: "SamplerCustom",
                inputs: [
                    ("model", .link(nodeId: "2", slot: 0)), ("add_noise", .constant(.bool(true))),
                    ("noise_seed", .constant(.int(42))),
                    ("cfg", .constant(.double(1))), ("positive", .link(nodeId: "3", slot: 0)),
                    ("negative", .link(nodeId: "4", slot: 0)),
                    ("sampler", .link(nodeId: "20", slot: 0)), ("sigmas", .link(nodeId: "21", slot: 0)),
                    ("latent_image", .link(nodeId: "5", slot: 0)),
                ]),
            WorkflowNode(
                id: "23", classType: "SaveLatent",
                inputs: [("samples", .link(nodeId: "22", slot: 0)), ("filename_prefix", .constant(.string("custom")))]),
            WorkflowNode(
                id: "24", classType: "SaveLatent",
                inputs: [("samples", .link(nodeId: "6", slot: 0)), ("filename_prefix", .constant(.string("ksampler")))]),
        ]
        loaded.workflow.nodes += nodes
        _ = try await engine.run(loaded)
        let custom = try SafeTensorsFile(path: output.appendingPathComponent("custom_00001_.latent").path).tensor(
            "latent_tensor")
        let ksampler = try SafeTensorsFile(path: output.appendingPathComponent("ksampler_00001_.latent").path).tensor(
            "latent_tensor")
        XCTAssertEqual(custom, ksampler)
    }

    /// Every ready-to-run workflow in workflows/ validates against the embedded files.
    func testShippedWorkflowsValidate() throws {
        let folder = Self.repository.appendingPathComponent("workflows")
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 8)
        for file in files {
            let report = engine.validate(try engine.load(folder.appendingPathComponent(file)))
            XCTAssertEqual(report.errors.map(\.description), [], file)
        }
    }

    /// Tiled VAE nodes: one tile gives exactly the plain result; many tiles give the same shapes.
    func testTiledVAENodes() async throws {
        for (size, tile) in [(64, 512), (80, 64)] {
            var loaded = try load("workflows/lcm-tiny.json", size: size)
            loaded.workflow.nodes += [
                WorkflowNode(
                    id: "20", classType: "VAEDecodeTiled",
                    inputs: [
                        ("samples", .link(nodeId: "6", slot: 0)), ("vae", .link(nodeId: "1", slot: 2)),
                        ("tile_size", .constant(.int(Int64(tile)))), ("overlap", .constant(.int(32))),
                        ("temporal_size", .constant(.int(64))), ("temporal_overlap", .constant(.int(8))),
                    ]),
                WorkflowNode(
                    id: "21", classType: "SaveImage",
                    inputs: [
                        ("images", .link(nodeId: "20", slot: 0)),
                        ("filename_prefix", .constant(.string("tiled\(size)"))),
                    ]),
                WorkflowNode(
                    id: "22", classType: "VAEEncodeTiled",
                    inputs: [
                        ("pixels", .link(nodeId: "20", slot: 0)), ("vae", .link(nodeId: "1", slot: 2)),
                        ("tile_size", .constant(.int(Int64(tile)))), ("overlap", .constant(.int(32))),
                        ("temporal_size", .constant(.int(64))), ("temporal_overlap", .constant(.int(8))),
                    ]),
                WorkflowNode(
                    id: "23", classType: "SaveLatent",
                    inputs: [
                        ("samples", .link(nodeId: "22", slot: 0)),
                        ("filename_prefix", .constant(.string("encoded\(size)"))),
                    ]),
            ]
            loaded.workflow["8"]?.set("filename_prefix", .constant(.string("plain\(size)")))
            _ = try await engine.run(loaded)
            let tiled = try ImageCodec.read(path: output.appendingPathComponent("tiled\(size)_00001_.png").path)
            let plain = try ImageCodec.read(path: output.appendingPathComponent("plain\(size)_00001_.png").path)
            XCTAssertEqual([tiled.width, tiled.height], [size, size])
            if tile >= size * 8 { XCTAssertEqual(tiled.samples, plain.samples, "a single tile is the plain decode") }
            let latent = try SafeTensorsFile(path: output.appendingPathComponent("encoded\(size)_00001_.latent").path)
                .tensor("latent_tensor")
            XCTAssertEqual(latent.shape, [1, 4, size / 8, size / 8])
        }
    }
}
