import Foundation
import LatentflowGraph

/// The memory budget every large allocation of the built-in nodes is checked against before it
/// is made: a workflow with in-range values can still ask for terabytes (an `EmptyImage` of
/// 4096 images of 16384x16384, `ImageScaleBy` x8 three times), and a failed allocation aborts the
/// process instead of failing the node.
public enum MemoryBudget {
    /// 75% of the machine's memory (`MemTotal` of `/proc/meminfo`).
    public static var defaultBytes: Int {
        let total = ProcessInfo.processInfo.physicalMemory
        return total > 0 ? Int(clamping: total / 4 * 3) : 8 << 30
    }

    /// `a * b * ...`, or nil when it overflows.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }

    /// The bytes of a Float32 tensor of this shape, nil when it overflows.
    public static func tensorBytes(_ shape: [Int]) -> Int? { product(shape + [MemoryLayout<Float>.size]) }

    /// `8.0 GB`, `512 MB` (binary units, as the settings are read).
    public static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) bytes" }
        return value < 10 ? String(format: "%.1f %@", value, units[unit]) : "\(Int(value.rounded())) \(units[unit])"
    }
}

extension BuiltinNodeSettings {
    /// Throws when `bytes` (nil: too many to count) exceed the memory budget: "`what` would need
    /// 12 TB for `purpose`; the memory budget is 18 GB (--memory-budget)".
    public func checkAllocation(bytes: Int?, what: String, for purpose: String) throws {
        if let bytes, bytes <= memoryBudgetBytes { return }
        let need = bytes.map(MemoryBudget.format) ?? "more than \(MemoryBudget.format(Int.max))"
        throw NodeError(
            "\(what) would need \(need) for \(purpose); the memory budget is \(MemoryBudget.format(memoryBudgetBytes)) (--memory-budget or LATENTFLOW_MEMORY_BUDGET)"
        )
    }
}

extension ExecutionContext {
    /// The memory budget check for a node's output tensor (Float32) of this shape.
    func checkAllocation(shape: [Int], for purpose: String) throws {
        try environment.builtinSettings.checkAllocation(
            bytes: MemoryBudget.tensorBytes(shape), what: classType, for: purpose)
    }
}

/// "4096 images of 16384x16384", "1 image of 512x512".
func describeBatch(_ count: Int, _ noun: String, width: Int, height: Int) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s") of \(width)x\(height)"
}
