import Hummingbird
import Latentflow

/// `GET/POST /queue`, `POST /interrupt` and `POST /free`.
extension LatentflowServer {
    func addQueueRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/queue") { _, _ in
            JSONResponse.make(
                .object([
                    ("queue_running", .array(await self.queue.runningJSON)),
                    ("queue_pending", .array(await self.queue.pendingJSON)),
                ]))
        }
        router.post("\(prefix)/queue") { request, context in
            let body = try await request.jsonBody(context: context)
            if body["clear"]?.boolValue == true { await self.queue.clearPending() }
            if let ids = body["delete"]?.arrayValue?.compactMap(\.stringValue) {
                await self.queue.deletePending(Set(ids))
            }
            return Response(status: .ok)
        }
        router.post("\(prefix)/interrupt") { request, context in
            let body = try await request.jsonBody(context: context)
            await self.queue.interrupt(promptId: body["prompt_id"]?.stringValue)
            return Response(status: .ok)
        }
        router.post("\(prefix)/free") { request, context in
            let body = try await request.jsonBody(context: context)
            if body["unload_models"]?.boolValue == true || body["free_memory"]?.boolValue == true {
                await self.queue.requestFree()
            }
            return Response(status: .ok)
        }
    }
}
