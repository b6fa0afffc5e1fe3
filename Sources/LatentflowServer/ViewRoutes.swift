import Foundation
import Hummingbird
import Latentflow

/// `GET /view?filename=&subfolder=&type=&preview=&channel=`: a file of the output, input or temp
/// folder (the name may be annotated `x.png [input]`), never anything outside it; as stored, or
/// re-encoded as ComfyUI's `view_image` does: `preview=jpeg;90` or `webp;90` (WebP also whenever
/// the alpha channel is wanted), `channel=rgb` (alpha dropped), `channel=a` (the alpha as a black
/// RGBA image), `rgba` (the file itself).
extension LatentflowServer {
    func addViewRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/view") { request, _ in
            let query = request.uri.queryParameters
            let (filename, annotatedType) = AnnotatedName.split(String(query.get("filename") ?? ""))
            let file = try self.viewableFile(
                filename: filename, subfolder: String(query.get("subfolder") ?? ""),
                type: annotatedType ?? String(query.get("type") ?? "output"))
            if let preview = query.get("preview") {
                return try Self.preview(file, format: String(preview), channel: String(query.get("channel") ?? ""))
            }
            let channel = String(query.get("channel") ?? "rgba")
            switch channel {
            case "rgb":
                return try Self.imageResponse(ImageChannels.rgb(Self.decode(file)), name: file.lastPathComponent)
            case "a":
                return try Self.imageResponse(ImageChannels.alphaOnly(Self.decode(file)), name: file.lastPathComponent)
            default: break
            }
            let data = try Data(contentsOf: file)
            return Self.fileResponse(
                data, type: Self.contentType(forExtension: file.pathExtension), name: file.lastPathComponent)
        }
    }

    /// The folder behind a `type`: ComfyUI's output, input and temp directories.
    func folder(ofType type: String) -> URL? {
        switch type {
        case "output": return engine.paths.outputDirectory
        case "input": return engine.paths.searchPaths(for: "input").first.map(URL.init(fileURLWithPath:))
        case "temp": return engine.executor.environment.tempDirectory
        default: return nil
        }
    }

    /// 400 for names that try to leave the folder, 403 for links that do, 404 for missing files.
    func viewableFile(filename: String, subfolder: String, type: String) throws -> URL {
        guard let root = folder(ofType: type) else { throw HTTPError(.badRequest, message: "unknown type '\(type)'") }
        try ConfinedPath.checkRelative(filename, subfolder)
        guard !filename.isEmpty else { throw HTTPError(.badRequest, message: "filename is required") }
        return try ConfinedPath.existingFile(subfolder.isEmpty ? filename : subfolder + "/" + filename, in: root)
    }

    static func decode(_ file: URL) throws -> RasterImage {
        do {
            return try ImageCodec.read(path: file.path, maxPixels: ServerLimits.maxUploadPixels)
        } catch {
            throw HTTPError(
                .badRequest, message: "'\(file.lastPathComponent)' is not an image this server decodes: \(error)")
        }
    }

    /// `preview=FORMAT[;QUALITY]` (quality 90 by default).
    static func preview(_ file: URL, format: String, channel: String) throws -> Response {
        let parts = format.split(separator: ";")
        let quality = parts.last.flatMap { Int($0) }.map { min(max($0, 1), 100) } ?? 90
        let image = try decode(file)
        let stem = (file.lastPathComponent as NSString).deletingPathExtension
        // ComfyUI: JPEG when asked and no alpha is wanted, else WebP (with the image's alpha unless `rgb`).
        let jpegAsked = parts.first == "jpeg" && !channel.contains("a")
        if jpegAsked {
            let jpeg = try ImageCodec.encodeJPEG(ImageChannels.rgb(image), quality: quality)
            return fileResponse(jpeg, type: "image/jpeg", name: stem + ".jpeg")
        }
        let pixels =
            channel != "rgb" && image.channels == 4
            ? RasterImage(
                width: image.width, height: image.height, channels: 4, samples: .uint8(ImageChannels.rgba8(image)))
            : ImageChannels.rgb(image)
        return fileResponse(
            try ImageCodec.encodeWebP(pixels, quality: quality), type: "image/webp", name: stem + ".webp")
    }

    static func imageResponse(_ image: RasterImage, name: String) throws -> Response {
        fileResponse(try ImageCodec.encodePNG(image), type: "image/png", name: name)
    }

    static func fileResponse(_ data: Data, type: String, name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "filename=\"\(name.replacingOccurrences(of: "\"", with: ""))\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func contentType(forExtension pathExtension: String) -> String {
        switch pathExtension.lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "gif": return "image/gif"
        case "json": return "application/json"
        case "txt": return "text/plain"
        default: return "application/octet-stream"
        }
    }
}
