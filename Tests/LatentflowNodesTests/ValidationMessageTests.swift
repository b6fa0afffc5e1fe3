import Latentflow
import LatentflowGraph
import LatentflowNodes
import LatentflowTestSupport
import XCTest

/// Every validation error kind names the node (id, class, title) and the input.
enum LatentflowIOCatalog {
    static func make(_ root: URL) throws -> ModelPaths {
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("input"), withIntermediateDirectories: true)
        return try ModelPaths(baseDirectory: root)
    }
}

final class ValidationMessageTests: XCTestCase {
    let executor = Executor(registry: try! NodeRegistry(packs: [BuiltinNodes.self, StubNodes.self]))

    func errors(_ build: (GraphBuilder) -> Void) -> [ValidationError] {
        let b = GraphBuilder()
        build(b)
        return executor.validate(b.workflow).errors
    }

    func assertOne(
        _ errors: [ValidationError], _ kind: ValidationError.Kind, node: String, input: String?, contains text: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let error = errors.first(where: { $0.kind == kind }) else {
            return XCTFail("no \(kind) among \(errors)", file: file, line: line)
        }
        XCTAssertEqual(error.location?.nodeId, node, file: file, line: line)
        XCTAssertEqual(error.location?.input, input, file: file, line: line)
        XCTAssertTrue(error.description.contains(text), "'\(error)' lacks '\(text)'", file: file, line: line)
        XCTAssertTrue(error.description.contains("node \(node) ("), file: file, line: line)
        if let input { XCTAssertTrue(error.description.contains("input '\(input)'"), file: file, line: line) }
    }

    func testUnknownClassType() {
        let e = errors { $0.add("NoSuchNode", id: "7", title: "Mystery") }
        assertOne(e, .invalidPrompt, node: "7", input: nil, contains: "NoSuchNode")
        XCTAssertTrue(e[0].description.contains("\"Mystery\""))
    }

    func testMissingRequiredInput() {
        let e = errors { $0.add("SaveImage", id: "9", ["filename_prefix": "x"]) }
        assertOne(e, .requiredInputMissing, node: "9", input: "images", contains: "Required input is missing")
    }

    func testLinkToMissingNodeAndMissingSlot() {
        let e = errors { b in
            let image = b.add("EmptyImage", id: "1", ["width": 8, "height": 8, "batch_size": 1, "color": 0])
            b.add("SaveImage", id: "2", ["images": WorkflowInput.link(nodeId: "77", slot: 0), "filename_prefix": "x"])
            b.add(
                "SaveImage", id: "3", ["images": WorkflowInput.link(nodeId: image.id, slot: 4), "filename_prefix": "x"])
            b.add(
                "SaveImage", id: "4",
                ["images": WorkflowInput.malformedLink(.array([.string("1")])), "filename_prefix": "x"])
        }
        assertOne(e, .missingLinkedNode, node: "2", input: "images", contains: "'77'")
        assertOne(e, .badLinkedInput, node: "3", input: "images", contains: "output 4 of node 1 (EmptyImage)")
        XCTAssertTrue(
            e.contains { $0.kind == .badLinkedInput && $0.location?.nodeId == "4" && $0.message.contains("length-2") })
    }

    func testTypeMismatch() {
        let e = errors { b in
            let mask = b.add("StubMask", id: "1", ["value": 0.5, "height": 8, "width": 8, "batch_size": 1])
            b.add("SaveImage", id: "2", ["images": mask.out(0), "filename_prefix": "x"])
        }
        assertOne(
            e, .returnTypeMismatch, node: "2", input: "images",
            contains: "received_type(MASK) mismatch input_type(IMAGE)")
    }

    func testConstantOfWrongType() {
        let e = errors { b in
            let image = b.add("EmptyImage", id: "1", ["width": "wide", "height": 8, "batch_size": 1, "color": 0])
            b.add("SaveImage", ["images": image.out(0), "filename_prefix": "x"])
        }
        assertOne(
            e, .invalidInputType, node: "1", input: "width", contains: "Failed to convert an input value to a INT value"
        )
    }

    func testValuesOutOfRange() {
        let e = errors { b in
            let image = b.add("EmptyImage", id: "1", ["width": 0, "height": 99999, "batch_size": 1, "color": 0])
            b.add("SaveImage", ["images": image.out(0), "filename_prefix": "x"])
        }
        assertOne(e, .valueSmallerThanMin, node: "1", input: "width", contains: "Value 0 smaller than min of 1")
        assertOne(e, .valueBiggerThanMax, node: "1", input: "height", contains: "Value 99999 bigger than max of 16384")
    }

    func testValueNotAmongOptions() {
        let e = errors { b in
            let image = b.add("EmptyImage", ["width": 8, "height": 8, "batch_size": 1, "color": 0])
            let scaled = b.add(
                "ImageScale", id: "5",
                ["image": image.out(0), "upscale_method": "sharpest", "width": 4, "height": 4, "crop": "disabled"])
            b.add("SaveImage", ["images": scaled.out(0), "filename_prefix": "x"])
        }
        assertOne(
            e, .valueNotInList, node: "5", input: "upscale_method", contains: "'sharpest' not in ['nearest-exact'")
    }

    /// A missing file is a value not among the folder's files: the message names the file and
    /// the folders searched.
    func testMissingFileSaysWhereItLooked() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-in-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let catalog = try LatentflowIOCatalog.make(root)
        let executor = Executor(
            registry: try NodeRegistry(packs: [BuiltinNodes.self]), environment: ExecutionEnvironment(files: catalog))
        let b = GraphBuilder()
        let image = b.add("LoadImage", id: "3", ["image": "missing.png"])
        b.add("SaveImage", ["images": image.out(0), "filename_prefix": "x"])
        let e = executor.validate(b.workflow).errors
        assertOne(e, .valueNotInList, node: "3", input: "image", contains: "'missing.png' not in []")
        XCTAssertTrue(e[0].description.contains(root.appendingPathComponent("input").path), "\(e[0])")
    }

    func testCustomValidationMessage() {
        let e = errors { b in
            let node = b.add("TestCustomValidation", id: "4", ["input1": 9.0, "input2": 1.0])
            b.add("StubOutput", ["images": node.out(0)])
        }
        assertOne(e, .customValidationFailed, node: "4", input: nil, contains: "input1 must be at most 5")
    }

    func testEveryProblemIsReportedAtOnce() {
        let e = errors { b in
            let image = b.add("EmptyImage", ["width": 0, "height": "x", "batch_size": 0, "color": 0])
            b.add("SaveImage", ["images": image.out(0)])
            b.add("NoSuchNode")
        }
        XCTAssertEqual(e.count, 5, "\(e)")
    }

    func testComfyJSONShape() {
        let b = GraphBuilder()
        let image = b.add("EmptyImage", id: "1", ["width": 0, "height": 8, "batch_size": 1, "color": 0])
        b.add("SaveImage", id: "2", ["images": image.out(0), "filename_prefix": "x"])
        let json = executor.validate(b.workflow).json
        XCTAssertEqual(json["error"]?["type"], .string("prompt_outputs_failed_validation"))
        XCTAssertEqual(json["node_errors"]?["1"]?["class_type"], .string("EmptyImage"))
        XCTAssertEqual(json["node_errors"]?["1"]?["dependent_outputs"], .array([.string("2")]))
        XCTAssertEqual(
            json["node_errors"]?["1"]?["errors"]?.arrayValue?.first?["type"], .string("value_smaller_than_min"))
        XCTAssertEqual(
            json["node_errors"]?["1"]?["errors"]?.arrayValue?.first?["extra_info"]?["input_name"], .string("width"))
    }

    func testRegistryRejectsDuplicatesNamingBothPacks() {
        enum Again: NodePack {
            static let name = "again"
            static let nodes: [any Node.Type] = [SaveImage.self]
        }
        XCTAssertThrowsError(try NodeRegistry(packs: [BuiltinNodes.self, Again.self])) { error in
            XCTAssertTrue("\(error)".contains("'latentflow' and 'again'"), "\(error)")
        }
    }
}
