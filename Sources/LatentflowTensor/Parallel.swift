import Dispatch
import Foundation

/// How many threads the kernels split work across; defaults to the machine's active cores.
public enum Threads {
    nonisolated(unsafe) public static var count: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// Runs `body` for every index in `0..<n`, spread over `Threads.count` threads in contiguous chunks.
/// Each index runs exactly once; the call returns when all have finished.
@inline(__always)
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let threads = min(Threads.count, n)
    if threads <= 1 {
        for i in 0..<n { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let start = n * t / threads, end = n * (t + 1) / threads
            for i in start..<end { body(i) }
        }
    }
}

/// Like `parallelFor`, but hands each thread a whole contiguous range and its thread index,
/// so a thread can reuse one scratch buffer across its indices.
public func parallelChunks(_ n: Int, _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
    let threads = min(Threads.count, n)
    if threads <= 1 {
        if n > 0 { body(0..<n, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            body((n * t / threads)..<(n * (t + 1) / threads), t)
        }
    }
}
