import Hummingbird

/// Refuses cross-origin state-changing requests, as ComfyUI's origin middleware does: a page on
/// another site must not queue prompts or clear history on a local server. A request whose Origin
/// names a different host:port than its Host header gets 403; requests without Origin (scripts,
/// curl) pass.
struct OriginCheckMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // GETs are state-changing only for the WebSocket, which streams every client's events.
        let guarded =
            request.method != .get && request.method != .head && request.method != .options
            || request.uri.path.hasSuffix("/ws")
        if guarded, let origin = request.headers[.origin], let host = request.head.authority,
            Self.isFromWebPage(origin), Self.hostAndPort(ofOrigin: origin) != host.lowercased()
        {
            return JSONResponse.error(
                "forbidden_origin", "Cross-origin request refused",
                details: "Origin \(origin) does not match Host \(host)", status: .forbidden)
        }
        return try await next(request, context)
    }

    /// Browsers send the page's origin (`http(s)://...`, or `null` from sandboxed frames and files),
    /// and a page cannot choose it. Other schemes come from programs (Swift's WebSocket client sends
    /// `ws://host` without the port), which this check is not about.
    static func isFromWebPage(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        return lowered == "null" || lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }

    /// `http://127.0.0.1:8188` → `127.0.0.1:8188`; a default port is left out, as browsers do in Host.
    static func hostAndPort(ofOrigin origin: String) -> String {
        var rest = Substring(origin.lowercased())
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        return String(rest)
    }
}
