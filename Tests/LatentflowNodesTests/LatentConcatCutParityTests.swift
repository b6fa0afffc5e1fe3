import Latentflow
import LatentflowGraph
import LatentflowNodes
import XCTest

/// LatentConcat and LatentCut against ComfyUI v0.3.64's own nodes, on the cases
/// `scripts/make_latent_concat_cut_fixtures.py` wrote.
final class LatentConcatCutParityTests: XCTestCase {
    func testConcatAndCutMatchComfyUI() async throws {
        let worst = try await NodeCaseFixture("latent_concat_cut").checkAll()
        XCTAssertEqual(worst.keys.sorted(), ["LatentConcat", "LatentCut"])
        print("latent concat/cut parity (max abs error):", worst.sorted { $0.key < $1.key })
    }

    func testMismatchedLatentsAreRefused() async throws {
        let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
        let values: [String: any Sendable] = [
            "samples1": Latent(Tensor(shape: [1, 4, 5, 6])), "samples2": Latent(Tensor(shape: [1, 4, 5, 7])),
            "dim": "y",
        ]
        do {
            _ = try await LatentConcat().execute(NodeInputs(values), context: context)
            XCTFail("mismatched widths were concatenated along y")
        } catch {
            XCTAssertTrue("\(error)".contains("must match except along 'y'"), "\(error)")
        }
    }
}
