import Foundation
import Latentflow
import LatentflowNodes
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

    /// `--bf16-unet` (or its variable) sets what UNets compute in and brings a 1 GiB Winograd budget
    /// for its planes, unless a budget is given; the engine hands the precision to the loaders.
    func testBFloat16UNetIsASettingWithItsOwnDefaultBudget() throws {
        var flags = EngineConfiguration.Flags()
        flags.baseDirectory = FileManager.default.temporaryDirectory.path
        let plain = try EngineConfiguration.resolve(flags, environment: [:])
        XCTAssertEqual(plain.unetPrecision, .float32)
        XCTAssertEqual(plain.nodeSettings.unetPrecision, .float32)
        let fromVariable = try EngineConfiguration.resolve(flags, environment: ["LATENTFLOW_BF16_UNET": "1"])
        XCTAssertEqual(fromVariable.unetPrecision, .bfloat16)
        flags.bf16UNet = true
        let configuration = try EngineConfiguration.resolve(flags, environment: [:])
        XCTAssertEqual(configuration.unetPrecision, .bfloat16)
        XCTAssertEqual(configuration.nodeSettings.unetPrecision, .bfloat16)
        XCTAssertEqual(configuration.nodeSettings.unetResidency, .bfloat16, "--bf16-unet stores the UNet in bfloat16")
        XCTAssertEqual(plain.nodeSettings.unetResidency, .float32)
        XCTAssertEqual(configuration.winogradCacheBytes, 1 << 30)
        flags.winogradCache = "0"
        XCTAssertEqual(try EngineConfiguration.resolve(flags, environment: [:]).winogradCacheBytes, 0)
    }
}
