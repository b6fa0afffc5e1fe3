import Latentflow
import XCTest

/// The README's library example is `examples/LibraryUse/main.swift`, which CI compiles; this keeps
/// the README's copy from drifting away from the compiled one.
final class ReadmeExampleTests: XCTestCase {
    func testLibraryExampleIsTheCompiledFile() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(
            contentsOf: repository.appendingPathComponent("examples/LibraryUse/main.swift"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "## Library use"))
        let start = try XCTUnwrap(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
        let end = try XCTUnwrap(readme.range(of: "```\n", range: start.upperBound..<readme.endIndex))
        XCTAssertEqual(String(readme[start.upperBound..<end.lowerBound]), example)
    }
}
