import LatentflowTensor

/// What ComfyUI's step caches (LazyCache, EasyCache) compare between steps: every `factor`-th row
/// and column of the last two axes, `x[..., ::factor, ::factor]`.
func everyNthPixel(_ x: Tensor, factor: Int) throws -> Tensor {
    guard x.rank >= 2 else { return x }
    let (h, w) = (x.dim(-2), x.dim(-1))
    let (rows, cols) = ((h + factor - 1) / factor, (w + factor - 1) / factor)
    let planes = x.count / max(1, h * w)
    let source = x.scalars
    var out = [Float]()
    out.reserveCapacity(planes * rows * cols)
    for p in 0..<planes {
        for r in 0..<rows {
            for c in 0..<cols { out.append(source[p * h * w + r * factor * w + c * factor]) }
        }
    }
    return try Tensor(shape: Array(x.shape.dropLast(2)) + [rows, cols], scalars: out)
}
