import Foundation
import Latentflow
import XCTest

/// The prompt steers the picture: the trained embedded shapes models (`scripts/train_shapes_model.py`)
/// render captions through the shipped workflows, and the caption checker (the Swift port of
/// `scripts/shapes_dataset.py`'s) reads what they drew. A pipeline that dropped the prompt, the
/// negative, the LoRA or the LCM guidance embedding would draw something else; random weights could
/// not tell.
final class ShapesSteeringTests: XCTestCase {
    var output: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-shapes-\(UUID().uuidString)")
        engine = try Engine(
            paths: ModelPaths(baseDirectory: TinyLCMWorkflowTests.repository, outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    /// Renders `workflow` (positive prompt node 3, negative node 4, KSampler node 6) and returns its
    /// pixels and what the checker reads in them.
    func render(
        _ workflow: String, prompt: String, negative: String = "", overrides: [String] = []
    ) async throws -> (pixels: [UInt8], reading: ShapeCaptionChecker.Reading) {
        var loaded = try engine.load(TinyLCMWorkflowTests.repository.appendingPathComponent("workflows/\(workflow)"))
        try loaded.apply(overrides: ["3.text=\(prompt)", "4.text=\(negative)"] + overrides)
        let files = engine.writtenFiles(try await engine.run(loaded))
        let image = try ImageCodec.read(path: try XCTUnwrap(files.first).path)
        guard case .uint8(let pixels) = image.samples else {
            XCTFail("8-bit expected")
            return ([], ShapeCaptionChecker.Reading(background: ""))
        }
        let reading = ShapeCaptionChecker.read(
            pixels: pixels, width: image.width, height: image.height, channels: image.channels)
        return (pixels, reading)
    }

    /// Mean absolute difference of two 8-bit images, in levels.
    func difference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        zip(a, b).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(max(a.count, 1))
    }

    static let prompts: [(text: String, shape: String, colour: String, background: String)] = [
        ("a large red circle on the left, blue background", "circle", "red", "blue"),
        ("a large yellow square in the center, black background", "square", "yellow", "black"),
        ("a large white triangle at the top, green background", "triangle", "white", "green"),
    ]

    /// Three prompts on the LCM checkpoint at 4 steps (the README's workflow), seeds 1-3: every picture
    /// shows its prompt's colours, and most show its shape (shape is the model's weak attribute: 52% on
    /// held-out captions, so one seed alone can miss; a pipeline that lost the prompt would miss them all).
    func testThreePromptsDrawTheirShapesAndColours() async throws {
        for prompt in Self.prompts {
            var shapes: [String?] = []
            for seed in 1...3 {
                let reading = try await render("shapes-lcm.json", prompt: prompt.text, overrides: ["6.seed=\(seed)"])
                    .reading
                XCTAssertEqual(reading.colour, prompt.colour, "\(prompt.text), seed \(seed)")
                XCTAssertEqual(reading.background, prompt.background, "\(prompt.text), seed \(seed)")
                shapes.append(reading.shape)
            }
            XCTAssertGreaterThanOrEqual(
                shapes.filter { $0 == prompt.shape }.count, 2, "\(prompt.text): read as \(shapes)")
        }
    }

    /// The negative prompt is guided away from, not towards: on the teacher (cfg 3, 12 steps), with the
    /// prompt's colours swapped into the negative, the background stays the prompt's and the shape
    /// never takes the negative's colour (guidance overshoots past the prompt's own, to yellow or green);
    /// a pipeline that swapped the two would draw the negative's background.
    func testTheNegativePromptIsGuidedAway() async throws {
        let settings = ["6.cfg=3.0", "6.steps=12"]
        let prompt = Self.prompts[0].text, swapped = "a large blue circle on the left, red background"
        let plain = try await render("shapes-teacher.json", prompt: prompt, overrides: settings)
        XCTAssertEqual([plain.reading.colour, plain.reading.background], ["red", "blue"])
        let negative = try await render("shapes-teacher.json", prompt: prompt, negative: swapped, overrides: settings)
        XCTAssertEqual(negative.reading.background, "blue")
        XCTAssertNotEqual(negative.reading.colour, "blue")
        XCTAssertGreaterThan(difference(plain.pixels, negative.pixels), 4, "the negative changed nothing")
        let reversed = try await render("shapes-teacher.json", prompt: swapped, negative: prompt, overrides: settings)
        XCTAssertEqual(reversed.reading.background, "red")
        XCTAssertNotEqual(reversed.reading.colour, "red")
    }

    /// The LCM-LoRA makes the teacher a 4-step model: with it the LCM sampler draws the prompt; with
    /// its strength at 0 the same sampler draws something else.
    func testTheLCMLoRAMakesTheTeacherAFourStepModel() async throws {
        let prompt = Self.prompts[1]
        let with = try await render("shapes-lcm-lora.json", prompt: prompt.text)
        XCTAssertEqual(with.reading.colour, prompt.colour)
        XCTAssertEqual(with.reading.background, prompt.background)
        let without = try await render("shapes-lcm-lora.json", prompt: prompt.text, overrides: ["10.strength_model=0"])
        XCTAssertGreaterThan(difference(with.pixels, without.pixels), 4, "the LoRA changed nothing")
    }

    /// The LCM checkpoint's guidance embedding carries the guidance scale: at 1 (no guidance) the
    /// picture differs from the one at 5.
    func testTheGuidanceEmbeddingChangesThePicture() async throws {
        let prompt = Self.prompts[2].text
        let guided = try await render("shapes-lcm.json", prompt: prompt)
        let unguided = try await render("shapes-lcm.json", prompt: prompt, overrides: ["9.guidance_scale=1.0"])
        XCTAssertGreaterThan(difference(guided.pixels, unguided.pixels), 2, "the guidance embedding changed nothing")
    }
}
