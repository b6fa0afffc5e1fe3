import Foundation
import LatentflowGraph
import LatentflowIO

/// Saves images as PNG in the output folder, named and tagged as ComfyUI does.
public struct SaveImage: Node {
    static let images = Input<ImageBatch>("images", tooltip: "The images to save.")
    static let filenamePrefix = Input.string(
        "filename_prefix", default: "ComfyUI",
        tooltip:
            "The prefix for the file to save. May contain subfolders and %width%, %height%, %year%, %month%, %day%, %hour%, %minute%, %second% and %batch_num%."
    )

    public static let schema = NodeSchema(
        "SaveImage", displayName: "Save Image", category: "image",
        description: "Saves the input images to your output directory.",
        inputs: [images, filenamePrefix], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        try ImageSaver(directory: context.environment.outputDirectory, type: "output", compressionLevel: 4)
            .save(try inputs[Self.images], prefix: try inputs[Self.filenamePrefix], context: context)
    }
}

/// Shows images: ComfyUI writes them to its temp folder; so does Latentflow.
public struct PreviewImage: Node {
    static let images = Input<ImageBatch>("images")

    public static let schema = NodeSchema(
        "PreviewImage", displayName: "Preview Image", category: "image",
        description: "Saves the input images to the temporary directory for preview.",
        inputs: [images], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        try ImageSaver.preview(try inputs[Self.images], compressionLevel: 1, context: context)
    }
}

/// ComfyUI's `get_save_image_path` and SaveImage loop: prefix variables, subfolders confined to
/// the folder, `<prefix>_<counter:05>_.png` with the counter after the highest existing one, and
/// `prompt` / `workflow` text chunks. Each file claims its name atomically (a name another save
/// took meanwhile moves it on to the next counter) and appears complete. The outputs carry
/// ComfyUI's `images` UI entries and the files' URLs.
struct ImageSaver {
    let directory: URL
    let type: String
    let compressionLevel: Int

    /// ComfyUI's preview save: the temp folder, `ComfyUI_temp_` and five random letters (its own
    /// alphabet, typo included).
    static func preview(_ batch: ImageBatch, compressionLevel: Int, context: ExecutionContext) throws -> NodeOutputs {
        let suffix = String((0..<5).map { _ in "abcdefghijklmnopqrstupvxyz".randomElement()! })
        return try ImageSaver(
            directory: context.environment.tempDirectory, type: "temp", compressionLevel: compressionLevel
        ).save(batch, prefix: "ComfyUI_temp_" + suffix, context: context)
    }

    func save(_ batch: ImageBatch, prefix rawPrefix: String, context: ExecutionContext) throws -> NodeOutputs {
        var target = try Target(self, prefix: rawPrefix, width: batch.width, height: batch.height)
        let texts = Self.metadata(context)
        for index in 0..<batch.count {
            let raster = RasterImage(
                width: batch.width, height: batch.height, channels: 3,
                samples: .uint8(ImageQuantization.rgb8(batch, index: index)), textChunks: texts)
            let png = try ImageCodec.encodePNG(raster, compressionLevel: compressionLevel)
            try target.write(png, stem: target.name.replacingOccurrences(of: "%batch_num%", with: String(index)))
        }
        return target.outputs()
    }

    /// The workflow's `prompt` and the extra PNG info (`workflow`), as (key, JSON text).
    static func metadata(_ context: ExecutionContext) -> [(key: String, text: String)] {
        var texts: [(key: String, text: String)] = [("prompt", context.prompt.serialized())]
        for (key, value) in context.extraPNGInfo?.objectPairs ?? [] { texts.append((key, value.serialized())) }
        return texts
    }

    /// Where one save's files go (`get_save_image_path`): the confined folder, the subfolder as
    /// reported, the file name prefix and the next counter; and what was written there.
    struct Target {
        let saver: ImageSaver
        let folder: URL, reportedFolder: URL
        let subfolder: String, name: String
        var counter: Int
        var written: [JSONValue] = [], files: [URL] = []

        init(_ saver: ImageSaver, prefix rawPrefix: String, width: Int, height: Int) throws {
            self.saver = saver
            let prefix = ImageSaver.substitute(rawPrefix, width: width, height: height, date: Date())
            (subfolder, name) = try ImageSaver.split(prefix, raw: rawPrefix, type: saver.type)
            folder = try ImageSaver.confinedFolder(subfolder, in: saver.directory, raw: rawPrefix, type: saver.type)
            reportedFolder = subfolder.isEmpty ? saver.directory : saver.directory.appendingPathComponent(subfolder)
            counter = ImageSaver.nextCounter(in: folder, prefix: name)
        }

        /// Writes `<stem>_<counter:05>_.<ext>`, claiming the name atomically.
        mutating func write(_ data: Data, stem: String, extension ext: String = "png") throws {
            let (url, used) = try OutputFile.create(data, in: folder, startingAt: counter) {
                "\(stem)_\(String(format: "%05d", $0))_.\(ext)"
            }
            let file = url.lastPathComponent
            written.append(
                .object([("filename", .string(file)), ("subfolder", .string(subfolder)), ("type", .string(saver.type))])
            )
            // Reported under the folder as configured, not the resolved path it was written to.
            files.append(reportedFolder.appendingPathComponent(file))
            counter = used + 1
        }

        /// ComfyUI's `images` UI entries (and `animated`, for the animation savers) and the files.
        func outputs(animated: Bool? = nil) -> NodeOutputs {
            var ui: [(key: String, value: JSONValue)] = [("images", .array(written))]
            if let animated { ui.append(("animated", .array([.bool(animated)]))) }
            return NodeOutputs(values: [], ui: .object(ui), files: files)
        }
    }

    /// A `filename_prefix` as (subfolder, file name prefix), refusing paths that leave the folder.
    static func split(_ prefix: String, raw: String, type: String) throws -> (subfolder: String, name: String) {
        let components = prefix.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.map(
            String.init)
        guard !prefix.hasPrefix("/"), !components.contains(".."), let name = components.last else {
            throw NodeError(
                "Saving \(type == "temp" ? "previews" : "files") outside the \(type) folder is not allowed: filename_prefix '\(raw)'"
            )
        }
        return (components.dropLast().joined(separator: "/"), name)
    }

    /// The folder to write into: `subfolder` of `directory`, refused when a symlink in it leads
    /// outside `directory`.
    static func confinedFolder(_ subfolder: String, in directory: URL, raw: String, type: String) throws -> URL {
        do {
            return try OutputFolder.confined(subfolder, in: directory)
        } catch let error as OutputFileError {
            guard case .leavesFolder = error else { throw NodeError("\(error)") }
            let what = type == "temp" ? "previews" : "files"
            throw NodeError(
                "Saving \(what) outside the \(type) folder is not allowed: "
                    + "filename_prefix '\(raw)' (\(error))")
        }
    }

    static func substitute(_ prefix: String, width: Int, height: Int, date: Date) -> String {
        let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
        return prefix.replacingOccurrences(of: "%width%", with: String(width))
            .replacingOccurrences(of: "%height%", with: String(height))
            .replacingOccurrences(of: "%year%", with: String(parts.year ?? 0))
            .replacingOccurrences(of: "%month%", with: two(parts.month))
            .replacingOccurrences(of: "%day%", with: two(parts.day))
            .replacingOccurrences(of: "%hour%", with: two(parts.hour))
            .replacingOccurrences(of: "%minute%", with: two(parts.minute))
            .replacingOccurrences(of: "%second%", with: two(parts.second))
    }

    /// 1 + the highest N among files named `<prefix>_<N>_...` (prefix compared case-insensitively).
    static func nextCounter(in folder: URL, prefix: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var highest = 0
        for name in names where name.count > prefix.count {
            let head = name.prefix(prefix.count + 1)
            guard head.dropLast().lowercased() == prefix.lowercased(), head.last == "_" else { continue }
            let digits =
                name.dropFirst(prefix.count + 1).split(separator: "_", omittingEmptySubsequences: false).first ?? ""
            highest = max(highest, Int(digits) ?? 0)
        }
        return highest + 1
    }
}
