import Hummingbird
import Latentflow

/// `GET /history`, `GET /history/{prompt_id}`, `POST /history` (clear / delete).
extension LatentflowServer {
    func addHistoryRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/history") { request, _ in
            let query = request.uri.queryParameters
            let maxItems = query.get("max_items").flatMap { Int($0) }
            let offset = query.get("offset").flatMap { Int($0) } ?? -1
            return JSONResponse.make(.object(await self.queue.historyEntries(maxItems: maxItems, offset: offset)))
        }
        router.get("\(prefix)/history/:prompt_id") { _, context in
            let id = context.parameters.get("prompt_id") ?? ""
            // `{}` while queued, running or unknown: clients poll until the entry appears.
            guard let entry = await self.queue.historyEntry(id) else { return JSONResponse.make(.object([])) }
            return JSONResponse.make(.object([(id, entry)]))
        }
        router.post("\(prefix)/history") { request, context in
            let body = try await request.jsonBody(context: context)
            if body["clear"]?.boolValue == true { await self.queue.clearHistory() }
            if let ids = body["delete"]?.arrayValue?.compactMap(\.stringValue) {
                await self.queue.deleteHistory(Set(ids))
            }
            return Response(status: .ok)
        }
    }
}
