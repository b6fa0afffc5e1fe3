import Foundation
import Synchronization

/// What a model layer's products take as inputs: float32, or inputs rounded to bfloat16 with
/// float32 sums (`BFloat16GEMM`), as PyTorch computes a model cast to `torch.bfloat16` on a CPU
/// with AVX512-BF16. Norms, softmax, activations and attention's own products stay in float32.
public enum ProductPrecision: String, Sendable, CaseIterable {
    case float32, bfloat16

    /// The precision layers run at on this thread, for the duration of a model call (the UNet's
    /// forward binds it from its MODEL's setting).
    @TaskLocal public static var current: ProductPrecision = .float32
}

/// A layer weight's bfloat16 forms, each made the first time a product needs it and kept, so
/// the rounding and packing happen once per model, not once per call: the weight as a matrix
/// `[out, in·kh·kw]` (1x1 and im2col convolutions), its Winograd planes by tile edge, and a
/// linear layer's transpose as the kernel's column operand. Only for a weight whose values never
/// change (a patched weight is a new parameter with a new cache).
///
/// Not bounded by the Winograd cache's budget: the bfloat16 mode keeps them all, as a model cast
/// to bfloat16 keeps its weights (they add half the float32 weights' size, since the float32
/// weights stay for everything else the model may be asked to do).
public final class BFloat16WeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var matrix: BFloat16GEMM.Weight?
    private var planes: [Int: [BFloat16GEMM.Weight]] = [:]
    private var transposed: BFloat16GEMM.Columns?

    /// Bytes all caches keep now.
    public static var usedBytes: Int { ledger.withLock { $0 } }
    private static let ledger = Mutex(0)
    private var bytes = 0

    public init() {}

    deinit { if bytes > 0 { Self.ledger.withLock { $0 -= bytes } } }

    /// The weight `[rows, depth]` at `weight`, rounded and packed on first use.
    func matrix(_ weight: UnsafePointer<Float>, rows: Int, depth: Int) -> BFloat16GEMM.Weight {
        kept(\.matrix) { BFloat16GEMM.Weight(weight, rows: rows, depth: depth) }
    }

    /// A linear weight `[columns, depth]`'s transpose as a column operand, packed on first use.
    func transposed(_ weight: UnsafePointer<Float>, columns: Int, depth: Int) -> BFloat16GEMM.Columns {
        kept(\.transposed) { BFloat16GEMM.Columns(transposing: weight, columns: columns, depth: depth) }
    }

    /// The Winograd planes `U_k [cout, cin]` for tile edge `tile`, each rounded and packed from
    /// the float32 planes `transform` writes (into scratch it is given), on first use.
    func winogradPlanes(
        tile: Int, planes count: Int, cout: Int, cin: Int, transform: (UnsafeMutablePointer<Float>) -> Void
    ) -> [BFloat16GEMM.Weight] {
        lock.lock()
        defer { lock.unlock() }
        if let kept = planes[tile] { return kept }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count * cout * cin)
        defer { scratch.deallocate() }
        transform(scratch)
        let made = (0..<count).map { BFloat16GEMM.Weight(scratch + $0 * cout * cin, rows: cout, depth: cin) }
        planes[tile] = made
        record(made.reduce(0) { $0 + $1.byteCount })
        return made
    }

    private func kept<Form: AnyObject>(
        _ slot: ReferenceWritableKeyPath<BFloat16WeightCache, Form?>, make: () -> Form
    ) -> Form where Form: BFloat16Form {
        lock.lock()
        defer { lock.unlock() }
        if let form = self[keyPath: slot] { return form }
        let form = make()
        self[keyPath: slot] = form
        record(form.byteCount)
        return form
    }

    private func record(_ size: Int) {
        bytes += size
        Self.ledger.withLock { $0 += size }
    }
}

/// A weight form `BFloat16WeightCache` keeps.
protocol BFloat16Form { var byteCount: Int { get } }
extension BFloat16GEMM.Weight: BFloat16Form {}
extension BFloat16GEMM.Columns: BFloat16Form {}
