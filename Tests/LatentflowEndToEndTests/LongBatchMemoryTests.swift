import Foundation
import Latentflow
import XCTest

/// Hundreds of distinct workflows through one engine, as a long `batch` worker runs them: the
/// output cache stays within its budget and the process stops growing once it is full.
/// A debug build on a busy 2-core machine renders about one tiny workflow per 2 s, so by default
/// 20 run (the budget is checked after each); LATENTFLOW_MEMORY_TEST_COUNT=300 runs the full
/// check (resident memory after workflow 50 vs the last: under 20 MB more).
final class LongBatchMemoryTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Resident memory of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    func testThreeHundredWorkflowsStayFlatAfterWarmUp() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-memory-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let budget = 24 << 20
        let engine = try Engine(
            paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output), cacheBudgetBytes: budget)
        let base = try engine.load(Self.repository.appendingPathComponent("workflows/lcm-tiny.json"))
        let count = Int(ProcessInfo.processInfo.environment["LATENTFLOW_MEMORY_TEST_COUNT"] ?? "") ?? 20
        var curve: [(Int, Int)] = []
        let started = Date()
        for index in 1...count {
            var loaded = base
            try loaded.apply(overrides: [
                "5.width=64", "5.height=64", "6.steps=1", "6.seed=\(index)", "3.text=a fox, take \(index)",
            ])
            _ = try await engine.run(loaded)
            XCTAssertLessThanOrEqual(engine.executor.cache.totalBytes, budget)
            if index % 50 == 0 || index == 1 { curve.append((index, Self.residentBytes())) }
        }
        let text = curve.map { "\($0.0): \(String(format: "%.1f", Double($0.1) / 1_048_576)) MB" }
        print(
            "RSS after workflow \(text.joined(separator: ", ")); cache \(engine.executor.cache.count) entries, "
                + "\(engine.executor.cache.totalBytes) bytes; \(Int(Date().timeIntervalSince(started))) s")
        guard let warm = curve.first(where: { $0.0 == 50 }), let last = curve.last, last.0 > warm.0 else { return }
        XCTAssertLessThan(last.1 - warm.1, 20 << 20, "grew after warm-up: \(text)")
    }
}
