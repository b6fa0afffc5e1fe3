import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

/// The PyTorch reference cases written by `scripts/make_tensor_fixtures.py`.
enum TorchFixtures {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "ops", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()

    static let parameters: [String: [String: Any]] = {
        let json = file.metadata["cases"]!.data(using: .utf8)!
        return try! JSONSerialization.jsonObject(with: json) as! [String: [String: Any]]
    }()

    static func tensor(_ name: String, _ role: String) throws -> Tensor { try file.tensor("\(name).\(role)") }
    static func expected(_ name: String) throws -> Tensor { try tensor(name, "expected") }
    static func parameter<T>(_ name: String, _ key: String) -> T { parameters[name]![key] as! T }
}

/// Fails unless shapes agree and max|actual - expected| <= tolerance · max|expected|
/// (normwise relative error, so values near zero do not dominate).
func assertClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    var maxDifference: Float = 0, maxReference: Float = 0
    for (a, e) in zip(actual.scalars, expected.scalars) {
        maxDifference = max(maxDifference, abs(a - e))
        maxReference = max(maxReference, abs(e))
        if a.isNaN != e.isNaN { maxDifference = .infinity }
    }
    let relative = maxDifference / max(maxReference, .leastNormalMagnitude)
    XCTAssertLessThanOrEqual(
        relative, tolerance,
        "\(label): relative error \(relative) (max |diff| \(maxDifference))", file: file, line: line)
}

/// Root mean square of `a - b`.
func rmsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    let squares = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    return (squares / Double(max(1, a.count))).squareRoot()
}

/// Tolerances, as normwise relative error against PyTorch float32.
enum Tolerance {
    /// Elementwise ops: a few ulps (our exp/erf approximations are within ~1-2 ulp).
    static let elementwise: Float = 1e-5
    /// Reductions and GEMMs: summation order differs from PyTorch's; float32 rounding grows
    /// with the length of the sums (up to ~1000 terms here).
    static let reduction: Float = 1e-4
}
