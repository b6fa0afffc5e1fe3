import Foundation
import LatentflowIO
import LatentflowTensor

/// Textual-inversion embeddings, as ComfyUI's `load_embed` finds them: the name as given or with
/// `.safetensors` / `.pt` / `.bin`; in the file, the tensor under the encoder's key (`clip_l` for
/// SD1.x, `clip_h` for SD2.x), `emb_params`, or else the first one. Only safetensors files are
/// read (pickled `.pt` files are refused: loading them would mean running untrusted pickle code).
public enum TextualInversion {
    /// The vectors `[count, width]` of embedding `name`, or nil when there is no such file.
    /// - Parameter locate: finds a file among the embeddings by name (throws when there is none).
    public static func load(
        _ name: String, key encoderKey: String = "clip_l",
        locate: (_ fileName: String) throws -> URL
    ) -> Tensor? {
        for candidate in [name, name + ".safetensors"] {
            guard let url = try? locate(candidate), url.pathExtension == "safetensors",
                let file = try? SafeTensorsFile(path: url.path)
            else { continue }
            let key: String? =
                file.keys.contains(encoderKey)
                ? encoderKey : (file.keys.contains("emb_params") ? "emb_params" : file.keys.sorted().first)
            guard let key, let tensor = try? file.tensor(key) else { continue }
            return tensor.rank == 1
                ? (try? tensor.reshaped([1, tensor.count]))
                : (try? tensor.reshaped([-1, tensor.dim(-1)]))
        }
        return nil
    }
}
