import Foundation
import Hummingbird
import Latentflow

/// JSON in and out: the engine's `JSONValue` keeps key order, as ComfyUI's responses do.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized())))
    }

    /// ComfyUI's shape for a request it cannot take: `{error: {type, message, details, extra_info}, node_errors}`.
    static func error(
        _ type: String, _ message: String, details: String = "",
        status: HTTPResponse.Status = .badRequest
    ) -> Response {
        make(
            .object([("error", errorObject(type, message, details: details)), ("node_errors", .object([]))]),
            status: status)
    }

    static func errorObject(_ type: String, _ message: String, details: String = "") -> JSONValue {
        .object([
            ("type", .string(type)), ("message", .string(message)), ("details", .string(details)),
            ("extra_info", .object([])),
        ])
    }
}

extension Request {
    /// The body as JSON; an empty body reads as `{}` (ComfyUI's POST /interrupt takes none).
    func jsonBody(context: ServerRequestContext) async throws -> JSONValue {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return .object([]) }
        do {
            return try JSONValue.parse(Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the request body is not JSON: \(error)")
        }
    }
}

extension JSONValue {
    /// Milliseconds since 1970, as ComfyUI stamps its events.
    static var timestampNow: JSONValue { .int(Int64(Date().timeIntervalSince1970 * 1000)) }
}
