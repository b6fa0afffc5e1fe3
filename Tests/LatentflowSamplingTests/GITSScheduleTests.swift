import Foundation
import LatentflowSampling
import XCTest

/// GITSScheduler's sigmas against `GITSScheduler.get_sigmas` run in numpy/torch on the same table
/// (scripts/make_gits_fixtures.py, which also checks the table's shape): exact float32.
final class GITSScheduleTests: XCTestCase {
    func testAgainstComfyUI() throws {
        let url = Bundle.module.url(forResource: "gits", withExtension: "json", subdirectory: "Fixtures")!
        let cases =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any])["cases"]
            as! [[String: Any]]
        XCTAssertEqual(cases.count, 128)
        for info in cases {
            let (coeff, steps, denoise) = (info["coeff"] as! Double, info["steps"] as! Int, info["denoise"] as! Double)
            let sigmas = try GITSSchedule.sigmas(coeff: coeff, steps: steps, denoise: denoise)
            XCTAssertEqual(
                sigmas, (info["sigmas"] as! [Double]).map { Float($0) },
                "coeff \(coeff) steps \(steps) denoise \(denoise)")
        }
    }

    func testCoeffOffTheGridSaysSo() {
        XCTAssertThrowsError(try GITSSchedule.sigmas(coeff: 1.23, steps: 10, denoise: 1)) { error in
            XCTAssertTrue("\(error)".contains("coeff 1.23 has no GITS table"), "\(error)")
        }
    }
}
