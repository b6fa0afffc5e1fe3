import Foundation
import LatentflowIO
import XCTest

final class ModelPathsTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-paths-\(UUID().uuidString)")
        for folder in ["models/checkpoints/sd15", "models/loras", "elsewhere/ckpts", "outside"] {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in [
            "models/checkpoints/a.safetensors", "models/checkpoints/sd15/b.ckpt", "models/checkpoints/notes.txt",
            "models/loras/l.safetensors", "elsewhere/ckpts/c.safetensors", "outside/secret.safetensors",
        ] {
            try Data("x".utf8).write(to: root.appendingPathComponent(file))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func testComfyLayoutAndExtraModelPaths() throws {
        let yaml = """
            other_ui:
                base_path: \(root.appendingPathComponent("elsewhere").path)
                checkpoints: |
                    ckpts
                    missing_dir
                unet: ckpts
            """
        let config = root.appendingPathComponent("extra_model_paths.yaml")
        try Data(yaml.utf8).write(to: config)
        let paths = try ModelPaths(baseDirectory: root, extraPaths: [config])
        XCTAssertEqual(paths.files(in: "checkpoints"), ["a.safetensors", "c.safetensors", "sd15/b.ckpt"])
        XCTAssertEqual(
            paths.files(in: "diffusion_models"), ["c.safetensors"], "'unet' is ComfyUI's old name for diffusion_models")
        XCTAssertEqual(try paths.locate("c.safetensors", in: "checkpoints").lastPathComponent, "c.safetensors")
        XCTAssertEqual(try paths.locate("sd15/b.ckpt", in: "checkpoints").lastPathComponent, "b.ckpt")
    }

    func testNamesCannotLeaveTheFolder() throws {
        let paths = try ModelPaths(baseDirectory: root)
        for name in ["../../outside/secret.safetensors", "/etc/passwd", "sd15/../../loras/l.safetensors", "~/x", ""] {
            XCTAssertThrowsError(try paths.locate(name, in: "checkpoints"), name) { error in
                XCTAssertTrue("\(error)".contains("outside the checkpoints folder"), "\(name): \(error)")
            }
        }
    }

    func testSymlinkEscapeIsRefused() throws {
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("models/checkpoints/link.safetensors"),
            withDestinationURL: root.appendingPathComponent("outside/secret.safetensors"))
        let paths = try ModelPaths(baseDirectory: root)
        XCTAssertThrowsError(try paths.locate("link.safetensors", in: "checkpoints")) { error in
            XCTAssertTrue("\(error)".contains("resolves to"), "\(error)")
        }
    }

    func testMissingFileNamesTheFoldersSearched() throws {
        let paths = try ModelPaths(baseDirectory: root)
        XCTAssertThrowsError(try paths.locate("nope.safetensors", in: "loras")) { error in
            XCTAssertTrue("\(error)".contains(self.root.appendingPathComponent("models/loras").path), "\(error)")
        }
    }

    func testBrokenYAMLIsAClearError() throws {
        let config = root.appendingPathComponent("bad.yaml")
        try Data("a: [unclosed".utf8).write(to: config)
        XCTAssertThrowsError(try ModelPaths(baseDirectory: root, extraPaths: [config])) { error in
            XCTAssertTrue("\(error)".contains("bad.yaml") && "\(error)".contains("invalid YAML"), "\(error)")
        }
    }
}
