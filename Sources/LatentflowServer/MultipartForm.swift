import Foundation
import Hummingbird

/// A `multipart/form-data` body (RFC 7578) as the web UI and ComfyUI's clients send uploads:
/// fields by name, each with its bytes and, for files, the file name. Malformed bodies are a
/// 400 naming what is wrong, never a crash.
struct MultipartForm {
    struct Part {
        let name: String
        let filename: String?
        let data: Data
    }

    static let maxParts = 32

    let parts: [Part]

    func field(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    func file(_ name: String) -> Part? { parts.first { $0.name == name && $0.filename != nil } }

    init(body: Data, contentType: String?) throws {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Self.boundary(of: contentType)
        else { throw HTTPError(.badRequest, message: "expected a multipart/form-data body with a boundary") }
        parts = try Self.split(body, boundary: Data("--\(boundary)".utf8))
    }

    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (1...70).contains(value.count) ? value : nil
        }
        return nil
    }

    static func split(_ body: Data, boundary: Data) throws -> [Part] {
        guard var cursor = body.range(of: boundary)?.upperBound else {
            throw HTTPError(.badRequest, message: "the multipart body has no boundary line")
        }
        let delimiter = Data("\r\n".utf8) + boundary
        var parts: [Part] = []
        while true {
            // After a boundary: "--" ends the body, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { return parts }
            guard body[cursor...].starts(with: Data("\r\n".utf8)) else {
                throw HTTPError(.badRequest, message: "malformed multipart boundary line")
            }
            cursor += 2
            guard let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: cursor..<body.endIndex) else {
                throw HTTPError(.badRequest, message: "a multipart part has no end of headers")
            }
            guard let next = body.range(of: delimiter, in: headerEnd.upperBound..<body.endIndex) else {
                throw HTTPError(.badRequest, message: "the multipart body ends without its closing boundary")
            }
            let headers = String(decoding: body[cursor..<headerEnd.lowerBound], as: UTF8.self)
            parts.append(try part(headers: headers, data: Data(body[headerEnd.upperBound..<next.lowerBound])))
            guard parts.count <= maxParts else {
                throw HTTPError(.badRequest, message: "more than \(maxParts) multipart parts")
            }
            cursor = next.upperBound
        }
    }

    static func part(headers: String, data: Data) throws -> Part {
        guard
            let disposition = headers.components(separatedBy: "\r\n").first(where: {
                $0.lowercased().hasPrefix("content-disposition:")
            })
        else { throw HTTPError(.badRequest, message: "a multipart part has no Content-Disposition") }
        var name: String?
        var filename: String?
        for parameter in disposition.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            let value = String(pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            switch pair[0].lowercased() {
            case "name": name = value
            case "filename": filename = value
            default: break
            }
        }
        guard let name else { throw HTTPError(.badRequest, message: "a multipart part has no name") }
        return Part(name: name, filename: filename, data: data)
    }
}
