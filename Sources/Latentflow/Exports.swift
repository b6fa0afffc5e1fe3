@_exported import Foundation
// What a library user needs comes with one `import Latentflow`: the engine's types (Graph), files
// and model folders (IO), the built-in nodes and their port values (Nodes), and tensors.
@_exported import LatentflowGraph
@_exported import LatentflowIO
@_exported import LatentflowNodes
@_exported import LatentflowTensor
