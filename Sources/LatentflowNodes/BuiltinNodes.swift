import LatentflowGraph

/// The nodes that ship with Latentflow, under ComfyUI's class names. Registered through the same
/// `NodePack` API a third-party package uses.
public enum BuiltinNodes: NodePack {
    public static let name = "latentflow"

    public static let nodes: [any Node.Type] = [
        LoadImage.self, SaveImage.self, PreviewImage.self, EmptyImage.self, ImageInvert.self,
        ImageScale.self, ImageScaleBy.self, ImageScaleToTotalPixels.self,
    ]
}
