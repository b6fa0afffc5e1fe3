import Foundation
import LatentflowTensor

/// Turns each grounding box (its text's pooled CLIP embedding and its corners) into one object
/// token: Fourier features of the corners, learned null features for empty slots, and a
/// three-layer SiLU MLP.
///
/// Matches: ComfyUI `comfy/gligen.py` `PositionNet` and `FourierEmbedder` (diffusers
/// `GLIGENTextBoundingboxProjection`, text-only).
struct GLIGENPositionNet: Sendable {
    static let frequencies = 8
    /// sin and cos of each frequency, for the 4 corner coordinates.
    static let positionDim = frequencies * 2 * 4

    let inDim: Int, outDim: Int
    let nullPositive: Tensor, nullPosition: Tensor
    let linears: (Linear, Linear, Linear)

    init(_ scope: WeightScope, inDim: Int, outDim: Int) {
        (self.inDim, self.outDim) = (inDim, outDim)
        nullPositive = scope.tensor("null_positive_feature", shape: [inDim])
        nullPosition = scope.tensor("null_position_feature", shape: [Self.positionDim])
        linears = (
            Linear(scope["linears.0"], in: inDim + Self.positionDim, out: 512),
            Linear(scope["linears.2"], in: 512, out: 512),
            Linear(scope["linears.4"], in: 512, out: outDim)
        )
    }

    /// `[1, slots, outDim]` object tokens for `boxes` (x1, y1, x2, y2 as fractions), `present`
    /// (false: an empty slot, given the null features) and `embeddings` `[slots, inDim]`.
    func callAsFunction(boxes: [[Float]], present: [Bool], embeddings: Tensor) throws -> Tensor {
        let slots = boxes.count
        let width = inDim + Self.positionDim
        let features = Tensor(shape: [1, slots, width]) { out in
            embeddings.withUnsafeBufferPointer { e in
                for slot in 0..<slots {
                    let row = slot * width
                    let box = boxes[slot]
                    for c in 0..<inDim { out[row + c] = present[slot] ? e[slot * inDim + c] : nullPositive.scalars[c] }
                    for f in 0..<Self.frequencies {
                        // FourierEmbedder: temperature ** (arange(freqs) / freqs), temperature 100.
                        let frequency = Foundation.pow(Float(100), Float(f) / Float(Self.frequencies))
                        for (k, coordinate) in box.enumerated() {
                            let sine = row + inDim + f * 8 + k, cosine = sine + 4
                            out[sine] =
                                present[slot] ? Foundation.sin(frequency * coordinate) : nullPosition.scalars[f * 8 + k]
                            out[cosine] =
                                present[slot]
                                ? Foundation.cos(frequency * coordinate) : nullPosition.scalars[f * 8 + 4 + k]
                        }
                    }
                }
            }
        }
        let hidden = try linears.1(linears.0(features).silu()).silu()
        return try linears.2(hidden)
    }
}
