import Hummingbird

/// `--auth-token`: every request, the WebSocket and the web UI's files included, must carry
/// `Authorization: Bearer <token>` (as Open WebUI sends); others get 401. The comparison takes
/// the same time wherever the first wrong byte is.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let token: String

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.equalInConstantTime(Array(header.dropFirst(7).utf8), Array(token.utf8))
        else {
            var response = JSONResponse.error(
                "unauthorized", "Unauthorized", details: "this server wants an Authorization: Bearer token",
                status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
