import Hummingbird
import Latentflow

/// `GET /object_info` and `/object_info/{class}`: every node's schema in ComfyUI's `node_info`
/// shape, which the web UI and API-format converters read.
extension LatentflowServer {
    func addObjectInfoRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/object_info") { _, _ in
            JSONResponse.make(ObjectInfo(engine: self.engine).all())
        }
        router.get("\(prefix)/object_info/:class") { _, context in
            let type = context.parameters.get("class") ?? ""
            guard let schema = self.engine.registry.schema(type) else { return JSONResponse.make(.object([])) }
            return JSONResponse.make(.object([(type, ObjectInfo(engine: self.engine).entry(for: schema))]))
        }
    }
}
