import Foundation
import Latentflow
import XCTest

/// `--winograd-cache` / `LATENTFLOW_WINOGRAD_CACHE` set the process's budget for kept Winograd
/// transforms when an engine starts; left out, the budget stays as it is (0 unless set).
final class WinogradCacheSettingTests: XCTestCase {
    func testTheBudgetIsASetting() throws {
        let budget = WinogradWeightCache.budgetBytes
        defer { WinogradWeightCache.budgetBytes = budget }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lf-winograd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        var flags = EngineConfiguration.Flags()
        flags.baseDirectory = base.path
        XCTAssertNil(try EngineConfiguration.resolve(flags, environment: [:]).winogradCacheBytes)
        XCTAssertEqual(
            try EngineConfiguration.resolve(flags, environment: ["LATENTFLOW_WINOGRAD_CACHE": "1G"]).winogradCacheBytes,
            1 << 30)
        flags.winogradCache = "768M"
        let configuration = try EngineConfiguration.resolve(flags, environment: ["LATENTFLOW_WINOGRAD_CACHE": "1G"])
        XCTAssertEqual(configuration.winogradCacheBytes, 768 << 20)
        WinogradWeightCache.budgetBytes = 0
        _ = try Engine(configuration: configuration)
        XCTAssertEqual(WinogradWeightCache.budgetBytes, 768 << 20, "the engine applies it")
        flags.winogradCache = "lots"
        XCTAssertThrowsError(try EngineConfiguration.resolve(flags, environment: [:]))
    }
}
