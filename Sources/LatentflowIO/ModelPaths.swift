import Foundation
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// ComfyUI's folder layout: `models/<kind>/` for model files, `input/` and `output/`, plus the
/// folders an `extra_model_paths.yaml` adds, so an existing ComfyUI install's models are found.
/// A file name from a workflow never resolves outside these folders.
public final class ModelPaths: @unchecked Sendable {
    /// Extensions ComfyUI lists for model folders (`folder_paths.supported_pt_extensions`).
    public static let modelExtensions: Set<String> = ["ckpt", "pt", "pt2", "bin", "pth", "safetensors", "pkl", "sft"]
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
    /// The model folder kinds ComfyUI knows, under their default directory names.
    public static let modelKinds = [
        "checkpoints", "loras", "vae", "embeddings", "diffusion_models", "text_encoders",
        "clip_vision", "controlnet", "upscale_models", "vae_approx", "diffusers", "gligen", "configs", "hypernetworks",
        "style_models",
    ]
    /// Older names ComfyUI still accepts in `extra_model_paths.yaml`.
    static let aliases = ["unet": "diffusion_models", "clip": "text_encoders"]

    public let baseDirectory: URL
    public let outputDirectory: URL
    /// ComfyUI's temp folder (previews): `<base>/temp` unless configured.
    public let tempDirectory: URL
    public private(set) var roots: [String: [URL]] = [:]

    /// - Parameters:
    ///   - baseDirectory: holds `models/`, `input/`, `output/` (ComfyUI's base path).
    ///   - modelsDirectory: overrides `<base>/models`.
    ///   - outputDirectory: overrides `<base>/output`.
    ///   - extraPaths: `extra_model_paths.yaml` files to read.
    ///   - inputDirectory, tempDirectory: override `<base>/input` and `<base>/temp`.
    public init(
        baseDirectory: URL, modelsDirectory: URL? = nil, outputDirectory: URL? = nil, extraPaths: [URL] = [],
        inputDirectory: URL? = nil, tempDirectory: URL? = nil
    ) throws {
        self.baseDirectory = baseDirectory.standardizedFileURL
        self.outputDirectory = (outputDirectory ?? baseDirectory.appendingPathComponent("output")).standardizedFileURL
        self.tempDirectory = (tempDirectory ?? baseDirectory.appendingPathComponent("temp")).standardizedFileURL
        let models = (modelsDirectory ?? baseDirectory.appendingPathComponent("models")).standardizedFileURL
        for kind in Self.modelKinds { roots[kind] = [models.appendingPathComponent(kind)] }
        roots["controlnet"]?.append(models.appendingPathComponent("t2i_adapter"))  // ComfyUI lists both
        roots["input"] = [(inputDirectory ?? baseDirectory.appendingPathComponent("input")).standardizedFileURL]
        roots["output"] = [self.outputDirectory]
        for file in extraPaths { try addExtraPaths(file) }
    }

    /// Reads an `extra_model_paths.yaml`: each top-level entry has an optional `base_path`, an
    /// optional `is_default`, and folder kinds mapped to one path or several (one per line).
    public func addExtraPaths(_ file: URL) throws {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ModelPathError.unreadableConfig(file: file.path, reason: error.localizedDescription)
        }
        let document: Any?
        do { document = try Yams.load(yaml: text) } catch {
            throw ModelPathError.unreadableConfig(file: file.path, reason: "invalid YAML: \(error)")
        }
        guard let sections = document as? [String: Any] else {
            if document == nil { return }
            throw ModelPathError.unreadableConfig(file: file.path, reason: "expected a mapping of configurations")
        }
        let configDirectory = file.deletingLastPathComponent()
        for (_, value) in sections.sorted(by: { $0.key < $1.key }) {
            guard let section = value as? [String: Any] else { continue }
            var base = configDirectory
            if let path = section["base_path"] as? String {
                let expanded = (path as NSString).expandingTildeInPath
                base =
                    expanded.hasPrefix("/")
                    ? URL(fileURLWithPath: expanded) : configDirectory.appendingPathComponent(expanded)
            }
            let isDefault = section["is_default"] as? Bool ?? false
            for (key, paths) in section where key != "base_path" && key != "is_default" {
                guard let paths = paths as? String else { continue }
                let kind = Self.aliases[key] ?? key
                for line in paths.split(whereSeparator: \.isNewline) {
                    let trimmed = line.trimmingCharacters(in: .whitespaces)
                    guard !trimmed.isEmpty else { continue }
                    let expanded = (trimmed as NSString).expandingTildeInPath
                    let url =
                        (expanded.hasPrefix("/")
                        ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)).standardizedFileURL
                    if isDefault {
                        roots[kind, default: []].insert(url, at: 0)
                    } else {
                        roots[kind, default: []].append(url)
                    }
                }
            }
        }
    }

    public func searchPaths(for folder: String) -> [String] { (roots[folder] ?? []).map(\.path) }

    public func files(in folder: String) -> [String] {
        if folder == "diffusers" { return diffusersFolders() }
        let extensions =
            folder == "input"
            ? Self.imageExtensions.union(["latent"])
            : folder == "output" ? Self.imageExtensions : folder == "configs" ? ["yaml"] : Self.modelExtensions
        var names = Set<String>()
        for root in roots[folder] ?? [] {
            Self.collect(root, below: "", extensions: extensions, ancestors: [], into: &names)
        }
        return names.sorted()
    }

    /// Adds the files under `folder` with one of `extensions`, by their path below the root.
    /// Symlinks are followed, to files and to folders, as ComfyUI's `os.walk(followlinks=True)`
    /// does: the user's own folders are trusted, and installs share a model store through links.
    /// `ancestors` (resolved paths) stops link loops; dangling links are skipped.
    static func collect(
        _ folder: URL, below relative: String, extensions: Set<String>, ancestors: Set<String>,
        into names: inout Set<String>
    ) {
        guard let real = OutputFolder.realPath(folder.path), !ancestors.contains(real),
            let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return }
        for entry in entries where !entry.hasPrefix(".") {
            let url = folder.appendingPathComponent(entry)
            let name = relative.isEmpty ? entry : relative + "/" + entry
            var info = stat()
            guard stat(url.path, &info) == 0 else { continue }  // follows the link; a dangling one fails
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                collect(url, below: name, extensions: extensions, ancestors: ancestors.union([real]), into: &names)
            case S_IFREG where extensions.contains(url.pathExtension.lowercased()):
                names.insert(name)
            default:
                break
            }
        }
    }

    /// Pipeline folders (holding `model_index.json` or `unet/config.json`) in the diffusers roots.
    func diffusersFolders() -> [String] {
        var names = Set<String>()
        for root in roots["diffusers"] ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
                let folder = root.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model_index.json").path)
                    || FileManager.default.fileExists(atPath: folder.appendingPathComponent("unet/config.json").path)
                {
                    names.insert(name)
                }
            }
        }
        return names.sorted()
    }

    /// In the input and output folders (LoadImage, LoadImageOutput), ComfyUI's annotated names
    /// (`x.png [output]`, `[temp]`, `[input]`) name a file of that folder instead
    /// (`folder_paths.annotated_filepath`).
    public func locate(_ annotatedName: String, in folder: String) throws -> URL {
        var name = annotatedName
        var searched = roots[folder] ?? []
        if folder == "input" || folder == "output", case let (plain, type?) = AnnotatedName.split(annotatedName) {
            name = plain
            if type == "output" { searched = [outputDirectory] }
            if type == "temp" { searched = [tempDirectory] }
            if type == "input" { searched = roots["input"] ?? [] }
        }
        try Self.checkRelativeName(name, folder: folder)
        for root in searched {
            let candidate = root.appendingPathComponent(name).standardizedFileURL
            guard FileManager.default.fileExists(atPath: candidate.path) else { continue }
            // A workflow's name cannot leave the folder (checkRelativeName), but the user's own
            // symlinks in the model folders are trusted and followed wherever they point, as ComfyUI
            // does: installs share one model store through links. The input and output folders,
            // which a server's clients write to, stay confined to their roots.
            if !Self.modelKinds.contains(folder) {
                let resolved = candidate.resolvingSymlinksInPath().path
                let allowed = searched.map { $0.resolvingSymlinksInPath().path }
                guard allowed.contains(where: { resolved == $0 || resolved.hasPrefix($0 + "/") }) else {
                    throw ModelPathError.escapesFolder(name: name, folder: folder, target: resolved)
                }
            }
            return candidate
        }
        throw ModelPathError.notFound(name: name, folder: folder, searched: searched.map(\.path))
    }

    /// Refuses absolute names and `..` components before touching the file system.
    public static func checkRelativeName(_ name: String, folder: String) throws {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        if name.isEmpty || name.hasPrefix("/") || name.hasPrefix("~") || components.contains("..")
            || name.contains("\0") || name.contains("\\")
        {
            throw ModelPathError.escapesFolder(name: name, folder: folder, target: nil)
        }
    }

    /// A path inside the output folder for a relative name (`subfolder/file.png`), refusing escapes.
    public func outputPath(_ relative: String) throws -> URL {
        try Self.checkRelativeName(relative, folder: "output")
        return outputDirectory.appendingPathComponent(relative).standardizedFileURL
    }
}

public enum ModelPathError: Error, CustomStringConvertible, Equatable {
    case notFound(name: String, folder: String, searched: [String])
    case escapesFolder(name: String, folder: String, target: String?)
    case unreadableConfig(file: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(name, folder, searched):
            return
                "'\(name)' was not found in the \(folder) folder; looked in: \(searched.isEmpty ? "(none configured)" : searched.joined(separator: ", "))"
        case let .escapesFolder(name, folder, target):
            return "'\(name)' is outside the \(folder) folder" + (target.map { " (it resolves to \($0))" } ?? "")
                + "; names must be relative paths inside the folder"
        case let .unreadableConfig(file, reason):
            return "\(file): \(reason)"
        }
    }
}
