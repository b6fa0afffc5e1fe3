import LatentflowGraph

/// The values `StubOutput` node `id` reported in a run (one mean per image).
public func stubMeans(_ result: RunResult, _ id: String) -> [Double] {
    result.ui.filter { $0.nodeId == id }.flatMap { $0.ui["images"]?.arrayValue ?? [] }.compactMap(\.doubleValue)
}

/// ComfyUI's lazy-evaluation test graph: a black and a white image mixed by a constant mask into
/// `TestLazyMixImages`, read by a `StubOutput`; returns the builder and the nodes' ids.
public func lazyMixGraph(mask: Double) -> (GraphBuilder, black: String, white: String, mix: String, out: String) {
    let b = GraphBuilder()
    let black = b.add("StubImage", ["content": "BLACK", "height": 8, "width": 8, "batch_size": 1])
    let white = b.add("StubImage", ["content": "WHITE", "height": 8, "width": 8, "batch_size": 1])
    let mask = b.add("StubMask", ["value": mask, "height": 8, "width": 8, "batch_size": 1])
    let mix = b.add("TestLazyMixImages", ["image1": black.out(0), "image2": white.out(0), "mask": mask.out(0)])
    let out = b.add("StubOutput", ["images": mix.out(0)])
    return (b, black.id, white.id, mix.id, out.id)
}
