import LatentflowTensor
import XCTest

/// Largest elementwise difference over the reference's largest magnitude (the bound every model
/// parity test states).
func relativeError(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.shape, b.shape, file: file, line: line)
    let scale = b.scalars.map(abs).max() ?? 1
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
}
