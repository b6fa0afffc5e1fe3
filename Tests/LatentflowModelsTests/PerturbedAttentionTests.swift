import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// The UNet's middle-block self-attention replacement (PAG's identity attention) against diffusers
/// with an attention processor returning to_out(to_v(x)) (scripts/make_pag_fixtures.py).
final class PerturbedAttentionTests: XCTestCase {
    func testIdentityMiddleSelfAttentionMatchesDiffusers() throws {
        let r = ModelParityTests.reference
        let pag = try SafeTensorsFile(path: ModelParityTests.fixture("pag_reference"))
        let (x, t, context) = (try r.tensor("unet.x"), try r.tensor("unet.t").scalars, try r.tensor("unet.context"))
        let unet = ModelParityTests.models.unet
        let plain = try unet(x, timesteps: t, context: context)
        let perturbed = try unet(x, timesteps: t, context: context, middleSelfAttention: { _, _, value, _ in value })
        let error = relativeError(perturbed, try pag.tensor("unet.pag_out"))
        print("PAG-patched UNet relative error vs diffusers: \(error)")
        XCTAssertLessThan(error, 1e-4)
        // The patch changes the output (by about 40% of its scale in the reference).
        XCTAssertGreaterThan(relativeError(perturbed, plain), 0.05)
    }
}
