import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowNodes
import XCTest

/// The custom-sampling scheduler and sigma nodes against ComfyUI's formulas in torch/numpy
/// (`scripts/make_sigma_node_fixtures.py` → `Fixtures/sigma_nodes.json`).
final class SigmaNodeParityTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String, node: String
            let inputs: [String: JSONScalar]
            let sigmas: [Float]?
            let expected: [[Float]]
        }
        let cases: [Case]
    }

    enum JSONScalar: Decodable {
        case int(Int), double(Double), string(String)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) {
                self = .int(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }
    }

    static let model = DiffusionModel(
        unet: UNet(RandomWeights(seed: 1).store(source: "tiny UNet").root, config: TinyModelFactory.unet),
        byteCount: 0)

    func testSchedulerAndSigmaNodesMatchComfyUI() async throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/sigma_nodes", withExtension: "json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 39)
        let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
        var worst: Float = 0
        for item in fixture.cases {
            let type = try XCTUnwrap(BuiltinNodes.nodes.first { $0.schema.classType == item.node }, item.node)
            var values: [String: any Sendable] = ["model": Self.model]
            if let sigmas = item.sigmas { values["sigmas"] = Sigmas(values: sigmas) }
            let floatInputs = Set(type.schema.inputs.filter { $0.type == .float }.map(\.name))
            for (name, value) in item.inputs {
                switch value {
                case .int(let number): values[name] = floatInputs.contains(name) ? Double(number) : number
                case .double(let number): values[name] = number
                case .string(let text): values[name] = text
                }
            }
            let outputs = try await type.init().execute(NodeInputs(values), context: context).values
            XCTAssertEqual(outputs.count, item.expected.count, item.name)
            for (output, expected) in zip(outputs, item.expected) {
                let actual = try XCTUnwrap(output as? Sigmas, item.name).values
                XCTAssertEqual(actual.count, expected.count, "\(item.name): \(actual) vs \(expected)")
                for (a, e) in zip(actual, expected) {
                    // float32 exp/log/pow may differ from torch's by an ulp or two.
                    let error = abs(a - e) / max(abs(e), 1e-6)
                    worst = max(worst, error)
                    XCTAssertLessThanOrEqual(error, 1e-6, "\(item.name): \(actual) vs \(expected)")
                }
            }
        }
        print("scheduler and sigma nodes: worst relative error \(worst)")
    }

    func testSetFirstSigmaOfNothingIsAClearError() async throws {
        let context = ExecutionContext(nodeId: "7", classType: "SetFirstSigma", environment: ExecutionEnvironment())
        do {
            _ = try await SetFirstSigma().execute(
                NodeInputs(["sigmas": Sigmas(values: []), "sigma": 136.0]), context: context)
            XCTFail("no error")
        } catch {
            XCTAssertTrue("\(error)".contains("sigmas is empty"), "\(error)")
        }
    }
}
