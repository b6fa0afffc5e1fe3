import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// ComfyUI's `--preview-method`.
public enum PreviewMethod: String, Sendable, CaseIterable {
    case none, auto, latent2rgb, taesd
}

/// How samplers preview their steps.
public struct PreviewSettings: Sendable, Equatable {
    public var method: PreviewMethod
    /// The longest side of a preview (ComfyUI's `--preview-size`, `MAX_PREVIEW_RESOLUTION`).
    public var maxSize: Int
    /// A preview every this many steps (and always on the last); ComfyUI previews every step.
    public var everySteps: Int

    public init(method: PreviewMethod = .none, maxSize: Int = 512, everySteps: Int = 1) {
        (self.method, self.maxSize, self.everySteps) = (method, maxSize, max(1, everySteps))
    }
}

/// The previews one sampler run reports, after each step's `progress`.
///
/// Matches: ComfyUI `latent_preview.py` `get_previewer` (`auto` is latent2rgb; `taesd` uses the
/// first `vae_approx` file starting with `taesd_decoder`, else warns and falls back to latent2rgb)
/// and `prepare_callback` (the step's `x0`, JPEG).
struct StepPreview {
    let previewer: (any LatentPreviewer)?
    let settings: PreviewSettings
    let context: ExecutionContext

    init(_ context: ExecutionContext) {
        self.context = context
        settings = context.environment.builtinSettings.preview
        previewer = Self.resolve(settings.method, context)
    }

    static func resolve(_ method: PreviewMethod, _ context: ExecutionContext) -> (any LatentPreviewer)? {
        switch method {
        case .none:
            return nil
        case .auto, .latent2rgb:
            return Latent2RGBPreviewer.sd15
        case .taesd:
            let files = context.environment.files
            guard let name = files.files(in: "vae_approx").first(where: { $0.hasPrefix("taesd_decoder") }) else {
                context.warn("TAESD previews enabled, but could not find models/vae_approx/taesd_decoder")
                return Latent2RGBPreviewer.sd15
            }
            do {
                let path = try files.locate(name, in: "vae_approx").path
                return TAESDPreviewer(
                    try context.environment.service(TAESDPreviewCache.self) { TAESDPreviewCache() }.decoder(path))
            } catch {
                context.warn("TAESD previews: \(error); previewing with latent2rgb")
                return Latent2RGBPreviewer.sd15
            }
        }
    }

    /// A preview failing (a latent of other channels) never fails the sampler: it is skipped.
    func report(_ step: Int, of total: Int, denoised: Tensor) {
        guard let previewer, step % settings.everySteps == 0 || step == total else { return }
        guard let jpeg = try? previewer.previewJPEG(denoised, maxSize: settings.maxSize) else { return }
        context.preview(step, of: total, jpeg: jpeg)
    }
}

/// The preview TAESD decoder, loaded once per file (and again when the file changes).
final class TAESDPreviewCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: (key: String, taesd: TAESD)?

    func decoder(_ path: String) throws -> TAESD {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let key = "\(path)|\(attributes?[.size] ?? 0)|\(attributes?[.modificationDate] ?? 0)"
        return try lock.withLock {
            if let loaded, loaded.key == key { return loaded.taesd }
            let taesd = try TAESDFiles.loadDecoder(path: path)
            loaded = (key, taesd)
            return taesd
        }
    }
}
