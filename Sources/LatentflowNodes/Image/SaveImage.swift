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
        let suffix = String((0..<5).map { _ in "abcdefghijklmnopqrstupvxyz".randomElement()! })
        return try ImageSaver(directory: context.environment.tempDirectory, type: "temp", compressionLevel: 1)
            .save(try inputs[Self.images], prefix: "ComfyUI_temp_" + suffix, context: context)
    }
}

/// ComfyUI's `get_save_image_path` and SaveImage loop: prefix variables, subfolders confined to
/// the folder, `<prefix>_<counter:05>_.png` with the counter after the highest existing one, and
/// `prompt` / `workflow` text chunks. Files are written atomically. The outputs carry ComfyUI's
/// `images` UI entries and the files' URLs.
struct ImageSaver {
    let directory: URL
    let type: String
    let compressionLevel: Int

    func save(_ batch: ImageBatch, prefix rawPrefix: String, context: ExecutionContext) throws -> NodeOutputs {
        let prefix = Self.substitute(rawPrefix, width: batch.width, height: batch.height, date: Date())
        let (subfolder, name) = try Self.split(prefix, raw: rawPrefix, type: type)
        let folder = subfolder.isEmpty ? directory : directory.appendingPathComponent(subfolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var counter = Self.nextCounter(in: folder, prefix: name)
        var texts: [(key: String, text: String)] = [("prompt", context.prompt.serialized())]
        for (key, value) in context.extraPNGInfo?.objectPairs ?? [] { texts.append((key, value.serialized())) }
        var written: [JSONValue] = [], files: [URL] = []
        for index in 0..<batch.count {
            let file =
                "\(name.replacingOccurrences(of: "%batch_num%", with: String(index)))_\(String(format: "%05d", counter))_.png"
            let raster = RasterImage(
                width: batch.width, height: batch.height, channels: 3,
                samples: .uint8(ImageQuantization.rgb8(batch, index: index)), textChunks: texts)
            let url = folder.appendingPathComponent(file)
            try ImageCodec.encodePNG(raster, compressionLevel: compressionLevel).write(to: url, options: .atomic)
            written.append(
                .object([("filename", .string(file)), ("subfolder", .string(subfolder)), ("type", .string(type))]))
            files.append(url)
            counter += 1
        }
        return NodeOutputs(values: [], ui: .object([("images", .array(written))]), files: files)
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
