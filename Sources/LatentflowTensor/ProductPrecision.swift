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
/// `[out, in·kh·kw]` (1x1 and im2col convolutions) and a linear layer's transpose as the
/// kernel's column operand; its Winograd planes by tile edge only within the Winograd budget.
/// Only for a weight whose values never change (a patched weight is a new parameter with a new
/// cache).
///
/// The matrices and transposes are not bounded by a budget: the bfloat16 mode keeps them all, as
/// a model cast to bfloat16 keeps its weights (they add up to half the float32 weights' size,
/// since the float32 weights stay for everything else the model may be asked to do).
public final class BFloat16WeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var matrix: BFloat16GEMM.Weight?
    private var planes: [Int: [BFloat16GEMM.Weight]] = [:]
    private var transposed: BFloat16GEMM.Columns?

    /// The float32 planes a layer's bfloat16 planes are packed from, one buffer for all layers:
    /// a fresh one per layer faulted in new pages each time (the kept forms take the freed ones):
    /// `perf` put about a quarter of a first call's packing time there.
    private static let planeScratch = Mutex<[Float]>([])

    /// Bytes all caches keep now.
    public static var usedBytes: Int { ledger.withLock { $0 } }
    private static let ledger = Mutex(0)
    private var bytes = 0

    public init() {}

    deinit { if bytes > 0 { Self.ledger.withLock { $0 -= bytes } } }

    /// The weight `[rows, depth]` at `weight`, rounded and packed on first use.
    func matrix(_ weight: WeightValues, rows: Int, depth: Int) -> BFloat16GEMM.Weight {
        kept(\.matrix) { BFloat16GEMM.Weight(weight.pointer, rows: rows, depth: depth) }
    }

    /// A linear weight `[columns, depth]`'s transpose as a column operand, packed on first use.
    func transposed(_ weight: WeightValues, columns: Int, depth: Int) -> BFloat16GEMM.Columns {
        kept(\.transposed) { BFloat16GEMM.Columns(transposing: weight.pointer, columns: columns, depth: depth) }
    }

    /// The Winograd planes `U_k [cout, cin]` for tile edge `tile`, each rounded and packed (on all
    /// cores) from the float32 planes `transform` writes into scratch. Kept between calls only when
    /// `budget` (the layer's `WinogradWeightCache`) has room under the Winograd budget, as float32
    /// transforms are; otherwise made per call, which costs about what the float32 path's own
    /// per-call transform does, where keeping them would fault in new memory on the first call
    /// (16/9 of the layer's weight in bfloat16) and hold it. With `onlyIfKept`, nil when they
    /// would not be kept (narrow maps, where a per-call transform costs more than it saves).
    func winogradPlanes(
        tile: Int, planes count: Int, cout: Int, cin: Int, budget: WinogradWeightCache?, onlyIfKept: Bool = false,
        transform: (UnsafeMutablePointer<Float>) -> Void
    ) -> [BFloat16GEMM.Weight]? {
        lock.lock()
        defer { lock.unlock() }
        if let kept = planes[tile] { return kept }
        let size = count * BFloat16GEMM.Weight.byteCount(rows: cout, depth: cin)
        let keep = budget?.reserve(bytes: size) ?? false
        if onlyIfKept && !keep { return nil }
        let made = Self.planeScratch.withLock { scratch in
            if scratch.count < count * cout * cin { scratch = [Float](repeating: 0, count: count * cout * cin) }
            return scratch.withUnsafeMutableBufferPointer { buffer in
                let source = buffer.baseAddress!
                transform(source)
                var slots = [BFloat16GEMM.Weight?](repeating: nil, count: count)
                slots.withUnsafeMutableBufferPointer { slots in
                    parallelFor(count) { k in
                        slots[k] = BFloat16GEMM.Weight(source + k * cout * cin, rows: cout, depth: cin)
                    }
                }
                return slots.map { $0! }
            }
        }
        if keep {
            planes[tile] = made
            record(size)
        }
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
