import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels split work across; defaults to the machine's active cores.
public enum Threads {
    nonisolated(unsafe) public static var count: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// Runs `body` for every index in `0..<n`, spread over `Threads.count` threads in contiguous
/// chunks, four per thread, claimed as threads finish (see `parallelChunks`). Each index runs
/// exactly once; the call returns when all have finished.
@inline(__always)
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    parallelChunks(n, chunksPerThread: 4) { range, _ in
        for i in range { body(i) }
    }
}

/// Like `parallelFor`, but hands out contiguous ranges with the index of the thread running
/// them, so a thread can reuse one scratch buffer (indexed by `thread`) across its indices.
///
/// With `chunksPerThread` 1 each thread gets one range of equal size. With more, the ranges are
/// smaller and threads claim them as they finish: when one core of a shared machine runs slower
/// (a co-tenant on its sibling hyperthread), the other takes over part of its work instead of
/// waiting for it. Ranges never depend on timing, only which thread runs them does.
public func parallelChunks(_ n: Int, chunksPerThread: Int = 1, _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
    let threads = min(Threads.count, n)
    if threads <= 1 {
        if n > 0 { body(0..<n, 0) }
        return
    }
    let chunks = min(n, threads * max(1, chunksPerThread))
    withoutActuallyEscaping(body) { body in
        if chunks == threads {
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                body((n * t / threads)..<(n * (t + 1) / threads), t)
            }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            while true {
                let chunk = next.add(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                body((n * chunk / chunks)..<(n * (chunk + 1) / chunks), t)
            }
        }
    }
}
