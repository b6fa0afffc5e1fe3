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

    /// Attack report 8: a model linked from a shared store outside `models/` was refused at load
    /// ("resolves to ..."), so installs sharing one store through symlinks could load nothing. The
    /// user's links in model folders are followed, as in ComfyUI; the input folder stays confined.
    func testSymlinksInModelFoldersAreFollowedAndTheInputFolderStaysConfined() throws {
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("models/checkpoints/link.safetensors"),
            withDestinationURL: root.appendingPathComponent("outside/secret.safetensors"))
        let paths = try ModelPaths(baseDirectory: root)
        XCTAssertEqual(try paths.locate("link.safetensors", in: "checkpoints").lastPathComponent, "link.safetensors")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("input"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("input/link.png"),
            withDestinationURL: root.appendingPathComponent("outside/secret.safetensors"))
        XCTAssertThrowsError(try paths.locate("link.png", in: "input")) { error in
            XCTAssertTrue("\(error)".contains("resolves to"), "\(error)")
        }
    }

    /// Symlinked models and symlinked subfolders are listed (and load) like files, as in ComfyUI:
    /// installs share one model store through links.
    func testSymlinkedModelsAndFoldersAreListed() throws {
        let checkpoints = root.appendingPathComponent("models/checkpoints")
        let links = FileManager.default
        try links.createSymbolicLink(
            at: checkpoints.appendingPathComponent("alias.safetensors"),
            withDestinationURL: checkpoints.appendingPathComponent("a.safetensors"))
        try FileManager.default.createSymbolicLink(
            atPath: checkpoints.appendingPathComponent("relative.ckpt").path,
            withDestinationPath: "sd15/b.ckpt")
        try FileManager.default.createSymbolicLink(
            at: checkpoints.appendingPathComponent("linked"),
            withDestinationURL: checkpoints.appendingPathComponent("sd15"))
        // A loop and a dangling link are skipped, not followed forever or listed.
        try links.createSymbolicLink(
            at: checkpoints.appendingPathComponent("sd15/loop"),
            withDestinationURL: checkpoints)
        try links.createSymbolicLink(
            at: checkpoints.appendingPathComponent("gone.safetensors"),
            withDestinationURL: checkpoints.appendingPathComponent("missing.safetensors"))
        let paths = try ModelPaths(baseDirectory: root)
        let listed = paths.files(in: "checkpoints")
        for name in ["a.safetensors", "alias.safetensors", "relative.ckpt", "linked/b.ckpt", "sd15/b.ckpt"] {
            XCTAssertTrue(listed.contains(name), "\(name) missing from \(listed)")
        }
        XCTAssertFalse(listed.contains("gone.safetensors"), "\(listed)")
        XCTAssertEqual(try paths.locate("alias.safetensors", in: "checkpoints").lastPathComponent, "alias.safetensors")
        XCTAssertEqual(try paths.locate("linked/b.ckpt", in: "checkpoints").lastPathComponent, "b.ckpt")
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
