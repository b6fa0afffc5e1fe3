import Foundation
import Synchronization

/// One weight's Winograd-transformed matrices U = G·g·Gᵀ, kept between calls so that a layer
/// that runs every sampling step transforms its weight once, not once per call (the transform
/// writes (m+2)²/9 times the weight: 4x for F(4x4, 3x3), 16/9 for F(2x2, 3x3)).
///
/// A model's layer owns one (through its `Parameter`, whose values never change: a patched
/// weight is a new `Parameter` with a new cache), so a cache never holds stale values. All caches
/// together keep at most `budgetBytes`; past that a layer transforms per call as before.
public final class WinogradWeightCache: @unchecked Sendable {
    /// The most all caches may keep, in bytes (0: none); `latentflow --winograd-cache` sets it.
    /// Off by default: in a whole UNet the kept transforms measured no faster, though a single
    /// layer timed in a loop did (README, "Kept Winograd transforms"; likely because a fresh
    /// transform leaves U in the L3 cache for the GEMMs that follow, while a kept one is read back
    /// from memory; not measured). A 512 px SD1.5 UNet's transforms take 694 MiB. With a budget,
    /// 16-wide maps also take F(2x2) (`WinogradConvolution.appliesWhenKept`), which did measure
    /// faster in a whole UNet.
    public static var budgetBytes: Int {
        get { ledger.withLock { $0.budget } }
        set { ledger.withLock { $0.budget = max(0, newValue) } }
    }

    /// Bytes all caches keep now.
    public static var usedBytes: Int { ledger.withLock { $0.used } }

    /// The most all caches have kept at once in this process.
    public static var peakBytes: Int { ledger.withLock { $0.peak } }

    private struct Ledger {
        var budget = 0
        var used = 0
        var peak = 0
    }
    private static let ledger = Mutex(Ledger())

    private let lock = NSLock()
    /// The transformed matrices by tile edge m (2 or 4).
    private var matrices: [Int: UnsafeMutablePointer<Float>] = [:]
    private var bytes = 0

    public init() {}

    deinit {
        for pointer in matrices.values { pointer.deallocate() }
        if bytes > 0 { Self.ledger.withLock { $0.used -= bytes } }
    }

    /// Charges `size` bytes that another cache keeps for this layer (its bfloat16 Winograd planes,
    /// `BFloat16WeightCache`) to the budget, released with this cache; false when there is no room.
    func reserve(bytes size: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let granted = Self.ledger.withLock { ledger -> Bool in
            guard ledger.used + size <= ledger.budget else { return false }
            ledger.used += size
            ledger.peak = max(ledger.peak, ledger.used)
            return true
        }
        if granted { bytes += size }
        return granted
    }

    /// The matrices for tile edge `tile`: kept ones, else `transform` writes them into kept memory
    /// when the budget allows (nil when it does not: the caller transforms into scratch).
    func matrices(tile: Int, count: Int, transform: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float>? {
        lock.lock()
        defer { lock.unlock() }
        if let kept = matrices[tile] { return UnsafePointer(kept) }
        let size = count * MemoryLayout<Float>.stride
        let granted = Self.ledger.withLock { ledger -> Bool in
            guard ledger.used + size <= ledger.budget else { return false }
            ledger.used += size
            ledger.peak = max(ledger.peak, ledger.used)
            return true
        }
        guard granted else { return nil }
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        transform(pointer)
        matrices[tile] = pointer
        bytes += size
        return UnsafePointer(pointer)
    }
}
