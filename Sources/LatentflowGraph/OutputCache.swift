import Foundation

/// A node's cache key: a 128-bit hash of its class, fingerprint, constant inputs and the keys of
/// its linked inputs (by slot), so equal subgraphs hit the cache whatever their node ids
/// (ComfyUI's `CacheKeySetInputSignature`).
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    let high: UInt64
    let low: UInt64

    public var description: String { String(format: "%016llx%016llx", high, low) }
}

/// Two FNV-1a lanes with different offsets: enough for a collision-free cache in practice, and
/// stable across processes (unlike `Hasher`).
struct KeyHasher {
    private var high: UInt64 = 0xCBF2_9CE4_8422_2325
    private var low: UInt64 = 0x6C62_272E_07BB_0142

    mutating func add(_ text: String) {
        for byte in text.utf8 { mix(byte) }
        mix(0xFF)
    }

    mutating func add(_ key: CacheKey) { add(key.description) }

    private mutating func mix(_ byte: UInt8) {
        high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        low = (low ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01B3
        low ^= low >> 29
    }

    var key: CacheKey { CacheKey(high: high, low: low) }
}

/// Cached node results, least recently used evicted first once the memory budget is exceeded.
/// Lives across runs, so a second run with only the seed changed reuses the loaded checkpoint
/// and the encoded prompts.
public final class OutputCache: @unchecked Sendable {
    struct Entry {
        var outputs: [[any Sendable]]
        var ui: JSONValue?
        var files: [URL]
        var bytes: Int
        var lastUse: UInt64
    }

    public let budgetBytes: Int
    /// What an entry costs besides its values' `MemoryFootprint` (the key, the arrays), and what a
    /// value that reports no footprint is charged. Charged so that entries of nothing but small values (a
    /// SaveImage's UI result, a number) count against the budget too: counted as 0 they piled up
    /// without bound in long batches.
    static let entryOverheadBytes = 64
    private var entries: [CacheKey: Entry] = [:]
    /// The sum of the entries' bytes, kept as they come and go: summing on every store made a
    /// run quadratic in its node count.
    private var storedBytes = 0
    private var clock: UInt64 = 0
    private let lock = NSLock()

    /// - Parameter budgetBytes: the most the cached values may hold, by their `MemoryFootprint`.
    public init(budgetBytes: Int = 8 << 30) { self.budgetBytes = budgetBytes }

    func lookup(_ key: CacheKey) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard var entry = entries[key] else { return nil }
        clock += 1
        entry.lastUse = clock
        entries[key] = entry
        return entry
    }

    func store(
        _ key: CacheKey, outputs: [[any Sendable]], ui: JSONValue?, files: [URL], protecting protected: Set<CacheKey>
    ) {
        let bytes =
            Self.entryOverheadBytes + (ui.map { $0.serialized().utf8.count } ?? 0)
            + files.reduce(0) { $0 + $1.path.utf8.count }
            + outputs.joined().reduce(0) { $0 + (($1 as? MemoryFootprint)?.byteCount ?? Self.entryOverheadBytes) }
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        storedBytes += bytes - (entries[key]?.bytes ?? 0)
        entries[key] = Entry(outputs: outputs, ui: ui, files: files, bytes: bytes, lastUse: clock)
        guard storedBytes > budgetBytes else { return }
        evict(keeping: protected.union([key]))
    }

    /// Drops least recently used entries until the budget holds, never those the running
    /// workflow still needs.
    private func evict(keeping protected: Set<CacheKey>) {
        for (key, entry) in entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where !protected.contains(key) {
            entries[key] = nil
            storedBytes -= entry.bytes
            if storedBytes <= budgetBytes { break }
        }
    }

    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
    public var totalBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return storedBytes
    }

    public func removeAll() {
        lock.lock()
        entries = [:]
        storedBytes = 0
        lock.unlock()
    }
}
