import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// A safetensors fixture of node cases in the layout the image fixture scripts write: JSON under
/// `cases`, each naming its node, typed inputs and parameters, expected outputs and `kind`
/// ("exact" or "float").
struct NodeCaseFixture {
    let file: SafeTensorsFile
    let cases: [String: [String: Any]]

    init(_ name: String) throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"))
        file = try SafeTensorsFile(path: url.path)
        let json = try XCTUnwrap(file.metadata["cases"]?.data(using: .utf8))
        cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: [String: Any]])
    }

    /// A fixture value as the Swift type its port carries.
    func value(_ typed: [Any]) throws -> any Sendable {
        let (type, raw) = (typed[0] as! String, typed[1])
        switch type {
        case "IMAGE": return ImageBatch(try file.tensor(raw as! String))
        case "LATENT": return Latent(try file.tensor(raw as! String))
        case "MASK": return Mask(try file.tensor(raw as! String))
        case "INT": return (raw as! NSNumber).intValue
        case "FLOAT": return (raw as! NSNumber).doubleValue
        case "BOOLEAN": return (raw as! NSNumber).boolValue
        default: return raw as! String
        }
    }

    /// Max |a − b|; a shape mismatch fails the test and counts as infinite, NaN only matches NaN.
    static func maxError(_ actual: Tensor, _ expected: Tensor, _ name: String) -> Float {
        XCTAssertEqual(actual.shape, expected.shape, name)
        guard actual.shape == expected.shape else { return .infinity }
        return zip(actual.scalars, expected.scalars).reduce(0) {
            $1.0.isNaN && $1.1.isNaN ? $0 : max($0, $1.0.isNaN || $1.1.isNaN ? .infinity : abs($1.0 - $1.1))
        }
    }

    /// Runs one case through the registered node, returning the max |ours − expected| over its
    /// tensor outputs.
    func run(_ name: String) async throws -> Float {
        let spec = cases[name]!
        let classType = spec["node"] as! String
        let node = try XCTUnwrap(BuiltinNodes.nodes.first { $0.schema.classType == classType }, classType)
        var values: [String: any Sendable] = [:]
        for (input, typed) in spec["inputs"] as! [String: [Any]] { values[input] = try value(typed) }
        for (param, typed) in spec["params"] as! [String: [Any]] { values[param] = try value(typed) }
        let context = ExecutionContext(nodeId: "1", classType: classType, environment: ExecutionEnvironment())
        let outputs = try await node.init().execute(NodeInputs(values), context: context).values
        var worst: Float = 0
        for (slot, typed) in (spec["outputs"] as! [[Any]]).enumerated() {
            let expected = try file.tensor(typed[1] as! String)
            let actual: Tensor
            switch typed[0] as! String {
            case "LATENT": actual = (outputs[slot] as! Latent).samples
            case "MASK": actual = (outputs[slot] as! Mask).values
            default: actual = (outputs[slot] as! ImageBatch).pixels
            }
            worst = max(worst, Self.maxError(actual, expected, "\(name) output \(slot)"))
        }
        return worst
    }

    /// Runs every case whose name starts with `prefix`, each within its kind's tolerance, and
    /// returns the worst error per node.
    func checkAll(prefix: String = "", floatTolerance: Float = 1e-5) async throws -> [String: Float] {
        var worst: [String: Float] = [:]
        for name in cases.keys.sorted() where name.hasPrefix(prefix) {
            let error = try await run(name)
            let node = cases[name]!["node"] as! String
            worst[node] = max(worst[node] ?? 0, error)
            let tolerance: Float = cases[name]!["kind"] as! String == "exact" ? 0 : floatTolerance
            XCTAssertLessThanOrEqual(error, tolerance, name)
        }
        return worst
    }
}
