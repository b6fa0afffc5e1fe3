import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// SDXS-style pruned UNets (ComfyUI's `SD09_XS` / `SD_XS`: per-level block counts, no attention on
/// some levels, no middle block or a ResBlock alone) read as UNETLoader reads them, against
/// diffusers' UNet2DConditionModel (scripts/make_sdxs_fixtures.py).
final class SDXSUNetTests: XCTestCase {
    func check(_ name: String, resBlocks: [Int], attention: [Bool], middle: UNetConfiguration.MiddleBlock) throws {
        let path = ModelParityTests.fixture("tiny_sdxs_\(name)")
        let part = try StandaloneUNet.load(path: path)
        let config = part.unet.config
        XCTAssertEqual(config.channelMultipliers.indices.map { config.resBlocks(level: $0) }, resBlocks, name)
        XCTAssertEqual(config.attentionLevels, attention, name)
        XCTAssertEqual(config.middleBlock, middle, name)
        XCTAssertEqual(part.prediction, .epsilon)
        let file = try SafeTensorsFile(path: path)
        let out = try part.unet(
            file.tensor("test.x"), timesteps: file.tensor("test.t").scalars, context: file.tensor("test.context"))
        let expected = try file.tensor("test.out")
        let peak = Double(expected.scalars.map(abs).max()!)
        let mse =
            zip(out.scalars, expected.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            / Double(expected.scalars.count)
        let psnr = 10 * log10(peak * peak / mse)
        XCTAssertGreaterThan(psnr, 90, "\(name): \(psnr) dB against diffusers")
        print("SDXS-style UNet \(name): \(psnr) dB against diffusers")
    }

    func testNoMiddleBlockAndPerLevelCounts() throws {
        try check("no_middle", resBlocks: [1, 2], attention: [false, true], middle: .none)
    }

    func testResBlockOnlyMiddle() throws {
        try check("resnet_middle", resBlocks: [2, 1], attention: [false, false], middle: .resBlockOnly)
    }

    /// The diffusers key map follows the per-level counts (DiffusersLoader, LoRA names).
    func testDiffusersKeyMapFollowsPerLevelCounts() throws {
        let config = try StandaloneUNet.load(path: ModelParityTests.fixture("tiny_sdxs_no_middle")).unet.config
        let map = DiffusersUNetKeyMap.modules(config)
        XCTAssertEqual(map["down_blocks.1.resnets.1.conv1"], "input_blocks.4.0.in_layers.2")
        XCTAssertEqual(map["up_blocks.0.resnets.2.conv1"], "output_blocks.2.0.in_layers.2")
        XCTAssertEqual(map["up_blocks.0.upsamplers.0.conv"], "output_blocks.2.2.conv")
        XCTAssertEqual(map["up_blocks.1.resnets.1.conv1"], "output_blocks.4.0.in_layers.2")
        XCTAssertNil(map["mid_block.resnets.0.conv1"])
    }
}
