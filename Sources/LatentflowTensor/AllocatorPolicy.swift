import CAllocatorPolicy

/// How the process's C allocator treats the large blocks that tensors come and go in.
///
/// An image allocates and frees the same large buffers many times: a 512 px VAE activation is
/// 134 MB, a Winograd layer's transformed weights up to 79 MB. With glibc's defaults every
/// block above a 32 MB (adaptive) threshold is mapped on allocation and unmapped on free, so
/// each reuse faults in and zeroes fresh pages; threads other than the main one allocate from
/// extra arenas whose heaps stop at 64 MB and map anything larger the same way. Kept in one
/// arena and never handed back, the blocks are reused warm. Measured on the 2-core development
/// machine, alternating runs (`bench --repeats 1 --workflow-checkpoint ... --sizes 512 --sizes
/// 256`, the settings applied through `GLIBC_TUNABLES`): the 4-step 512 px LCM image 25.0 / 25.1 s
/// against 29.8 / 31.0 s, at 256 px 6.1 s against 6.9 / 7.1 s, VAE decode 512 7.0 s against
/// 9.3 s; peak RSS 4.68 GiB against 4.74. The price: memory freed after a peak stays with the
/// process (up to 2 GiB of it) for the next run instead of going back to the system.
public enum AllocatorPolicy {
    /// Blocks up to this size come from the heap instead of their own mapping.
    public static let heapBlockLimit: Int32 = 1 << 30
    /// Free memory at the top of the heap is returned to the system only beyond this.
    public static let retainedFreeLimit: Int32 = .max

    /// Applies the policy once per process; true when the C library took it (glibc). Call it at
    /// the top of `main`, before other threads allocate: threads that already have an arena
    /// keep it. `Engine` calls it too, for callers that do not.
    @discardableResult
    public static func keepFreedBlocksForReuse() -> Bool { applied }

    private static let applied: Bool = lf_keep_freed_blocks(heapBlockLimit, retainedFreeLimit) == 1
}
