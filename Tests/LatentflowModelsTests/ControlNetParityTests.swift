import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowModels

/// ControlNet and T2I-Adapter parity against diffusers on the embedded tiny UNet
/// (scripts/make_controlnet_fixtures.py). Bound: relative error 1e-4, as the other model tests
/// (float32 through a dozen layers, different summation orders).
final class ControlNetParityTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!.path
    }
    static func model(_ name: String) -> String {
        repository.appendingPathComponent("models/\(name)").path
    }
    static let reference = try! SafeTensorsFile(path: fixture("controlnet_reference"))
    static let unet = try! StableDiffusionCheckpoint.load(
        path: model("checkpoints/latentflow-tiny-sd15.safetensors"), roundCLIPToFloat16: false
    ).unet

    func controlNet(_ path: String) throws -> ControlNet {
        guard case .controlNet(let net) = try ControlModelFile.load(path: path).model else {
            throw XCTSkip("not read as a ControlNet")
        }
        return net
    }

    func checkControlNet(_ net: ControlNet) throws {
        let r = Self.reference
        let residuals = try net(
            r.tensor("x"), hint: r.tensor("hint"), timesteps: r.tensor("t").scalars, context: r.tensor("context"))
        XCTAssertEqual(residuals.output.count, 4)
        for (i, output) in residuals.output.enumerated() {
            let error = relativeError(try XCTUnwrap(output), try r.tensor("control.output.\(i)"))
            XCTAssertLessThan(error, 1e-4, "output \(i)")
        }
        let middle = relativeError(try XCTUnwrap(residuals.middle.first ?? nil), try r.tensor("control.middle"))
        XCTAssertLessThan(middle, 1e-4)
        let out = try Self.unet(
            r.tensor("x"), timesteps: r.tensor("t").scalars, context: r.tensor("context"),
            control: residuals.scaled(by: 0.7))
        let error = relativeError(out, try r.tensor("unet.controlled"))
        XCTAssertLessThan(error, 1e-4)
        print("UNet with ControlNet residuals, relative error vs diffusers: \(error)")
    }

    func testLDMLayoutControlNetMatchesDiffusers() throws {
        let net = try controlNet(Self.model("controlnet/latentflow-tiny-controlnet.safetensors"))
        XCTAssertEqual(net.config.modelChannels, 32)
        XCTAssertEqual(net.hintChannels, 3)
        try checkControlNet(net)
    }

    func testDiffusersLayoutControlNetMatchesDiffusers() throws {
        try checkControlNet(try controlNet(Self.fixture("controlnet_diffusers")))
    }

    func testChainedResidualsAdd() throws {
        let a = ControlResiduals(middle: [Tensor(shape: [1], repeating: 1)], output: [Tensor(shape: [1], repeating: 2)])
        let b = ControlResiduals(
            middle: [Tensor(shape: [1], repeating: 3)], output: [nil, Tensor(shape: [1], repeating: 5)])
        let merged = try b.merged(onto: a.scaled(by: 0.5))
        XCTAssertEqual(merged.middle.map { $0?.scalars }, [[3.5]])
        XCTAssertEqual(merged.output.map { $0?.scalars }, [[1], [5]])
    }

    func testIntrablockResidualsMatchDiffusers() throws {
        let r = Self.reference
        // ComfyUI's `input` list is consumed from its end, one entry per input block.
        let control = ControlResiduals(input: [
            try r.tensor("unet.intrablock.1"), nil, try r.tensor("unet.intrablock.0"), nil,
        ])
        let out = try Self.unet(
            r.tensor("x"), timesteps: r.tensor("t").scalars, context: r.tensor("context"), control: control)
        XCTAssertLessThan(relativeError(out, try r.tensor("unet.intrablock")), 1e-4)
    }

    func checkAdapter(_ path: String, _ name: String, kind: T2IAdapter.Kind) throws {
        guard case .t2iAdapter(let adapter) = try ControlModelFile.load(path: path).model else {
            return XCTFail("\(path) not read as a T2I-Adapter")
        }
        XCTAssertEqual(adapter.kind, kind)
        XCTAssertEqual(adapter.hintChannels, 3)
        let features = try adapter(Self.reference.tensor("adapter.hint")).input
        XCTAssertEqual(features.count, 12)
        // ComfyUI's order: deepest level first, each followed by two empty places.
        for level in 0..<4 {
            let feature = try XCTUnwrap(features[11 - (3 * level + 2)], "level \(level)")
            let error = relativeError(feature, try Self.reference.tensor("adapter.\(name).\(level)"))
            XCTAssertLessThan(error, 1e-4, "\(name) level \(level)")
        }
        XCTAssertEqual(features.compactMap { $0 }.count, 4)
    }

    func testFullT2IAdapterInBothLayoutsMatchesDiffusers() throws {
        try checkAdapter(Self.model("controlnet/latentflow-tiny-t2i-adapter.safetensors"), "full", kind: .full)
        try checkAdapter(Self.fixture("controlnet_t2i_full_diffusers"), "full", kind: .full)
    }

    func testLightT2IAdapterMatchesDiffusers() throws {
        try checkAdapter(Self.fixture("controlnet_t2i_light"), "light", kind: .light)
    }

    func testMismatchedResidualIsSkippedAndReported() throws {
        let r = Self.reference
        var reports: [String] = []
        let plain = try Self.unet(r.tensor("x"), timesteps: r.tensor("t").scalars, context: r.tensor("context"))
        let out = try Self.unet(
            r.tensor("x"), timesteps: r.tensor("t").scalars, context: r.tensor("context"),
            control: ControlResiduals(middle: [Tensor(shape: [1, 3, 2, 2])]), controlMismatch: { reports.append($0) })
        XCTAssertEqual(out, plain)
        XCTAssertEqual(reports.count, 1)
    }

    func testNotAControlModelIsAClearError() throws {
        XCTAssertThrowsError(try ControlModelFile.load(path: Self.fixture("controlnet_reference"))) { error in
            XCTAssertTrue("\(error)".contains("neither a ControlNet nor a T2I-Adapter"), "\(error)")
        }
    }
}
