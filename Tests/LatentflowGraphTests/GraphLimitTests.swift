import Foundation
import LatentflowGraph
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 5: graphs past the size limit are refused with a message naming the limit.
extension GraphSizeTests {
    func testDefaultLimitIsAHundredThousand() {
        XCTAssertEqual(GraphLimits.standard.maxNodes, 100_000)
        XCTAssertEqual(GraphLimits.standard.maxLinks, 100_000)
        let report = Executor(registry: registry).validate(chain(100_000))
        XCTAssertFalse(report.isRunnable)
        XCTAssertEqual(report.errors.map(\.kind), [.invalidPrompt])
        XCTAssertTrue(report.errors.first?.message.contains("100000") == true, "\(report.errors)")
    }

    func testGraphOverTheLimitIsRefused() throws {
        let executor = Executor(registry: registry, limits: GraphLimits(maxNodes: 50, maxLinks: 1_000))
        let report = executor.validate(chain(60))
        XCTAssertEqual(report.errors.count, 1)
        XCTAssertEqual(report.errors.first?.kind, .invalidPrompt)
        XCTAssertEqual(report.errors.first?.message, "The workflow has 62 nodes, more than the limit of 50 nodes")
        let links = Executor(registry: registry, limits: GraphLimits(maxNodes: 1_000, maxLinks: 50)).validate(chain(60))
        XCTAssertEqual(links.errors.first?.message, "The workflow has 61 links, more than the limit of 50 links")
        XCTAssertTrue(executor.validate(chain(10)).isValid)

        let converter = UIWorkflowConverter(registry: registry, limits: GraphLimits(maxNodes: 50, maxLinks: 1_000))
        XCTAssertThrowsError(try converter.convert(rerouteChain(60))) { error in
            XCTAssertEqual("\(error)", "The workflow has 62 nodes, more than the limit of 50 nodes")
        }
    }
}
