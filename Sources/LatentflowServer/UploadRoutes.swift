import Foundation
import Hummingbird
import Latentflow

/// `POST /upload/image` and `/upload/mask` (ComfyUI's `image_upload` in `server.py`): a
/// multipart `image` file into the input (or `type`) folder's `subfolder`, under its own name or,
/// unless `overwrite`, the first free `name (1).png` (a file with the same bytes is reused). The
/// file must decode as an image; names never leave the folder and are claimed atomically.
/// Answers `{name, subfolder, type}`.
extension LatentflowServer {
    func addUploadRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.post("\(prefix)/upload/image") { request, context in
            let form = try await Self.multipartForm(request, context: context)
            return try self.upload(form) { data in try Self.checkDecodes(data) }
        }
        router.post("\(prefix)/upload/mask") { request, context in
            let form = try await Self.multipartForm(request, context: context)
            let original = try self.maskOriginal(form)
            return try self.upload(form) { mask in try Self.compositeMaskAlpha(mask, into: original) }
        }
    }

    static func multipartForm(_ request: Request, context: ServerRequestContext) async throws -> MultipartForm {
        let body = try await request.body.collect(upTo: ServerLimits.maxUploadBytes)
        return try MultipartForm(body: Data(body.readableBytesView), contentType: request.headers[.contentType])
    }

    /// Saves the form's `image` (after `prepare` turns the uploaded bytes into the file's bytes).
    func upload(_ form: MultipartForm, prepare: (Data) throws -> Data) throws -> Response {
        guard let image = form.file("image"), let filename = image.filename, !filename.isEmpty else {
            throw HTTPError(.badRequest, message: "the form has no 'image' file")
        }
        let type = form.field("type").flatMap { $0.isEmpty ? nil : $0 } ?? "input"
        guard let root = folder(ofType: type) else { throw HTTPError(.badRequest, message: "unknown type '\(type)'") }
        let subfolder = form.field("subfolder") ?? ""
        try ConfinedPath.checkRelative(filename, subfolder)
        guard !filename.contains("/") else {
            throw HTTPError(.badRequest, message: "'\(filename)': a file name, not a path (use subfolder)")
        }
        let data = try prepare(image.data)
        let folder = try ConfinedPath.folderForWriting(subfolder, in: root)
        let overwrite = form.field("overwrite") == "true" || form.field("overwrite") == "1"
        let name: String
        if overwrite {
            try FileClaim.replace(folder.appendingPathComponent(filename), with: data)
            name = filename
        } else {
            name = try FileClaim.claimFirstFree(filename, in: folder, with: data)
        }
        return JSONResponse.make(
            .object([("name", .string(name)), ("subfolder", .string(subfolder)), ("type", .string(type))]))
    }

    /// Uploads are images: anything the decoders refuse is a 400 naming why. Returns the bytes as sent.
    static func checkDecodes(_ data: Data) throws -> Data {
        do {
            _ = try ImageCodec.decode(data, name: "the upload", maxPixels: ServerLimits.maxUploadPixels)
        } catch {
            throw HTTPError(.badRequest, message: "the upload is not a PNG or JPEG image: \(error)")
        }
        return data
    }

    /// The image `original_ref` names (`{filename, subfolder, type}`; the name may be annotated
    /// `x.png [input]`), decoded.
    func maskOriginal(_ form: MultipartForm) throws -> RasterImage {
        guard let text = form.field("original_ref"), let reference = try? JSONValue.parse(text),
            let annotated = reference["filename"]?.stringValue
        else { throw HTTPError(.badRequest, message: "the form has no 'original_ref' {filename, subfolder, type}") }
        let (filename, annotatedType) = AnnotatedName.split(annotated)
        let type = annotatedType ?? reference["type"]?.stringValue ?? "output"
        let file = try viewableFile(
            filename: filename, subfolder: reference["subfolder"]?.stringValue ?? "", type: type)
        do {
            return try ImageCodec.read(path: file.path, maxPixels: ServerLimits.maxUploadPixels)
        } catch {
            throw HTTPError(.badRequest, message: "the original image cannot be read: \(error)")
        }
    }

    /// ComfyUI's mask upload: the original as RGBA 8-bit with the mask's alpha channel put in,
    /// its text chunks kept, saved as PNG at compression level 4.
    static func compositeMaskAlpha(_ maskData: Data, into original: RasterImage) throws -> Data {
        let mask: RasterImage
        do {
            mask = try ImageCodec.decode(maskData, name: "the mask", maxPixels: ServerLimits.maxUploadPixels)
        } catch {
            throw HTTPError(.badRequest, message: "the mask is not a PNG or JPEG image: \(error)")
        }
        guard mask.width == original.width, mask.height == original.height else {
            throw HTTPError(
                .badRequest,
                message:
                    "the mask is \(mask.width)x\(mask.height), the original \(original.width)x\(original.height)")
        }
        let base = ImageChannels.rgba8(original)
        let alpha = ImageChannels.rgba8(mask)
        var pixels = base
        for pixel in 0..<(original.width * original.height) { pixels[pixel * 4 + 3] = alpha[pixel * 4 + 3] }
        let composite = RasterImage(
            width: original.width, height: original.height, channels: 4, samples: .uint8(pixels),
            textChunks: original.textChunks)
        return try ImageCodec.encodePNG(composite, compressionLevel: 4)
    }
}
