import Hummingbird

/// A web UI extension the server adds to `/extensions`: comfyui-frontend-package 1.27.10 builds
/// its model-browser table from ten loader classes it assumes every server has
/// (`useModelToNodeStore.registerDefaults`), and when one is missing from `/object_info` it
/// throws while creating every model combo (`ckpt_name`, `lora_name`, ...), so a checkpoint
/// cannot be chosen. The extension gives the UI a hidden placeholder for each loader this
/// server lacks (category "" marks it deprecated, which the node library hides); `/object_info`
/// itself lists only real nodes, and a prompt using a placeholder is refused as an unknown class.
enum WebUICompatExtension {
    static let path = "/extensions/latentflow/web-ui-compat.js"

    /// The classes `registerDefaults` names.
    static let assumedLoaders = [
        "CheckpointLoaderSimple", "ImageOnlyCheckpointLoader", "LoraLoader", "LoraLoaderModelOnly", "VAELoader",
        "ControlNetLoader", "UNETLoader", "UpscaleModelLoader", "StyleModelLoader", "GLIGENLoader",
    ]

    static var script: String {
        let names = assumedLoaders.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            // Served by latentflow serve (see WebUICompatExtension.swift).
            import { app } from "../../scripts/app.js";

            app.registerExtension({
              name: "latentflow.webUICompat",
              addCustomNodeDefs(defs) {
                for (const name of [\(names)]) {
                  if (defs[name]) continue;
                  defs[name] = {
                    name, display_name: name + " (not in Latentflow)", category: "", description: "Not available in Latentflow.",
                    python_module: "latentflow", input: { required: {} }, input_order: { required: [] },
                    output: [], output_is_list: [], output_name: [], output_node: false, deprecated: true,
                  };
                }
              },
            });
            """
    }

    static func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/javascript; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: script)))
    }
}
