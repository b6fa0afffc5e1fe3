import Foundation
import Hummingbird
import Latentflow

/// `GET/POST /settings` and `/settings/{id}` (ComfyUI's `app/app_settings.py`): the web UI's
/// settings, kept in the user's `comfy.settings.json`.
extension LatentflowServer {
    func addSettingsRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/settings") { _, _ in JSONResponse.make(await self.settings.all()) }
        router.get("\(prefix)/settings/:id") { _, context in
            let id = try Self.pathParameter("id", context)
            // null for a setting never stored, as ComfyUI answers.
            return JSONResponse.make(await self.settings.all()[id] ?? .null)
        }
        router.post("\(prefix)/settings") { request, context in
            try await self.settings.merge(try await request.jsonBody(context: context))
            return Response(status: .ok)
        }
        router.post("\(prefix)/settings/:id") { request, context in
            let id = try Self.pathParameter("id", context)
            let value = try await request.jsonValueBody(context: context)
            try await self.settings.set(id, value)
            return Response(status: .ok)
        }
    }
}

extension Request {
    /// Any JSON value (a setting may be a string, number, list or null); the body must not be empty.
    func jsonValueBody(context: ServerRequestContext) async throws -> JSONValue {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        do {
            return try JSONValue.parse(Data(buffer.readableBytesView))
        } catch {
            throw HTTPError(.badRequest, message: "the request body is not JSON: \(error)")
        }
    }
}
