import LatentflowGraph
import LatentflowIO

/// ComfyUI's model folders are the files a workflow may name. The conformance lives here, where
/// both the engine and the folders are visible, so that IO does not depend on the engine.
extension ModelPaths: FileCatalog {}
