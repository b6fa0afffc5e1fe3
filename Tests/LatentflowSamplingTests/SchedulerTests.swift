import Foundation
import LatentflowSampling
import XCTest

/// Sigma tables and schedules against ComfyUI's own `calculate_sigmas`
/// (scripts/make_sampling_fixtures.py).
final class SchedulerTests: XCTestCase {
    static let schedules: [String: [Double]] = {
        let url = Bundle.module.url(forResource: "schedules", withExtension: "json", subdirectory: "Fixtures")!
        let json = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (json["schedules"] as! [String: [NSNumber]]).mapValues { $0.map(\.doubleValue) }
    }()

    func sampling(_ name: String) -> ModelSampling {
        switch name {
        case "lcm": return ModelSampling(parameterization: .lcm)
        case "eps_zsnr": return ModelSampling(parameterization: .eps, zeroTerminalSNR: true)
        default: return ModelSampling(parameterization: .eps)
        }
    }

    func testSigmaTablesMatchExactly() {
        for name in ["eps", "lcm", "eps_zsnr"] {
            let expected = Self.schedules["\(name).table"]!.map { Float($0) }
            XCTAssertEqual(sampling(name).sigmas, expected, name)
        }
    }

    /// Every implemented scheduler at several step counts: UNet timesteps exact; sigmas bit-exact
    /// below 16 steps except exponential, else within a few float32 ulps. torch runs whole blocks
    /// of 16 elements through SLEEF's vectorized exp/pow and libm for the rest; Latentflow uses
    /// libm throughout (the known gap is reported by this test's output).
    func testSchedulesMatchComfyUI() throws {
        var checked = 0
        var inexact: [String] = []
        for (key, expected) in Self.schedules where !key.hasSuffix("table") && !key.hasSuffix(".timesteps") {
            let parts = key.split(separator: ".")
            let s = sampling(String(parts[0]))
            let scheduler = SchedulerName(rawValue: String(parts[1]))!
            let sigmas = try Schedulers.sigmas(scheduler, s, steps: Int(parts[2])!)
            XCTAssertEqual(sigmas.count, expected.count, key)
            if sigmas != expected.map({ Float($0) }) {
                let vectorized = Int(parts[2])! >= 16 || scheduler == .exponential || scheduler == .klOptimal
                XCTAssertTrue(vectorized, "\(key) must match exactly: \(sigmas) vs \(expected)")
                for (a, b) in zip(sigmas, expected.map { Float($0) }) where a != b {
                    XCTAssertLessThanOrEqual(abs(a - b), 8 * b.ulp, "\(key): \(sigmas) vs \(expected)")
                }
                inexact.append(key)
            }
            let timesteps = sigmas.dropLast().map { Double(s.timestep($0)) }
            XCTAssertEqual(timesteps, Self.schedules[key + ".timesteps"], "\(key) timesteps")
            checked += 1
        }
        XCTAssertEqual(checked, 2 * 9 * 7 - 2)  // kl_optimal has no 1-step schedule (NaN in ComfyUI)
        if !inexact.isEmpty { print("schedules within a few ulps of ComfyUI (not bit-exact): \(inexact.sorted())") }
    }

    /// The LCM values COMFYUI-COMPAT.md records, including the sgm_uniform tie at 499.
    func testLCMTimesteps() throws {
        let lcm = ModelSampling(parameterization: .lcm)
        for (steps, expected) in [
            (4, [999, 759, 499, 259]), (6, [999, 839, 679, 499, 339, 179]),
            (8, [999, 879, 759, 639, 499, 379, 259, 139]),
        ] {
            let sigmas = try Schedulers.sigmas(.sgmUniform, lcm, steps: steps)
            XCTAssertEqual(sigmas.dropLast().map { Int(lcm.timestep($0)) }, expected)
        }
    }
}

extension SchedulerTests {
    func testLogTablesMatchExactly() {
        XCTAssertEqual(
            ModelSampling(parameterization: .eps).logSigmas, Self.schedules["eps.log_table"]!.map { Float($0) })
        XCTAssertEqual(
            ModelSampling(parameterization: .lcm).logSigmas, Self.schedules["lcm.log_table"]!.map { Float($0) })
    }
}
