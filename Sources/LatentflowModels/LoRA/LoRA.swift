import Foundation
import LatentflowIO
import LatentflowTensor

/// A LoRA-family weight patch for one base weight, in any of the formats ComfyUI loads.
public enum WeightPatch: Sendable {
    /// LoRA / LoCon: `ΔW = (α/rank) · up · down` (flattened), optional Tucker `mid`.
    case lora(up: Tensor, down: Tensor, mid: Tensor?, alpha: Float?)
    /// LoHa: `ΔW = (α/rank) · (w1a·w1b) ⊙ (w2a·w2b)`.
    case loha(w1a: Tensor, w1b: Tensor, w2a: Tensor, w2b: Tensor, alpha: Float?)
    /// LoKr: `ΔW = (α/rank) · kron(w1, w2)`, each factor possibly low-rank.
    case lokr(w1: Tensor?, w1a: Tensor?, w1b: Tensor?, w2: Tensor?, w2a: Tensor?, w2b: Tensor?, alpha: Float?)
    /// A whole difference (`.diff`, `.diff_b`: what LoraSave writes for 1-D weights and biases).
    case diff(Tensor)

    /// The weight difference, shaped like `shape`.
    func delta(shape: [Int]) throws -> Tensor {
        switch self {
        case let .diff(difference):
            return try difference.reshaped(shape)
        case let .lora(up, down, mid, alpha):
            let rank = down.dim(0)
            var down2 = try down.reshaped([rank, -1])  // [r, in·k·k]
            if let mid {
                // LoCon's Tucker form: fold the [r, r, kh, kw] mid kernel into down
                // (ComfyUI: mm(downᵀ, midᵀ) reshaped to [in, r, kh, kw], transposed).
                let (kh, kw) = (mid.dim(2), mid.dim(3))
                let inputs = down2.dim(1)
                let midT = try mid.permuted([1, 0, 2, 3]).reshaped([mid.dim(1), -1])  // [r1, r0·kh·kw]
                let folded = try down2.permuted([1, 0]).matmul(midT)  // [in, r0·kh·kw]
                down2 = try folded.reshaped([inputs, mid.dim(0), kh, kw]).permuted([1, 0, 2, 3]).reshaped([
                    mid.dim(0), -1,
                ])
            }
            let product = try up.reshaped([up.dim(0), -1]).matmul(down2)
            let scale = (alpha ?? Float(rank)) / Float(rank)
            return try product.scaled(by: scale).reshaped(shape)
        case let .loha(w1a, w1b, w2a, w2b, alpha):
            let rank = w1b.dim(0)
            let product = try w1a.matmul(w1b).multiplying(w2a.matmul(w2b))
            return try product.scaled(by: (alpha ?? Float(rank)) / Float(rank)).reshaped(shape)
        case let .lokr(w1, w1a, w1b, w2, w2a, w2b, alpha):
            var rank: Int?
            let first: Tensor
            if let w1 {
                first = w1
            } else if let w1a, let w1b {
                first = try w1a.matmul(w1b)
                rank = w1b.dim(0)
            } else {
                throw ModelLoadError.unrecognized(file: "LoRA", reason: "LoKr patch without lokr_w1")
            }
            var second: Tensor
            if let w2 {
                second = w2
            } else if let w2a, let w2b {
                second = try w2a.matmul(w2b)
                rank = w2b.dim(0)
            } else {
                throw ModelLoadError.unrecognized(file: "LoRA", reason: "LoKr patch without lokr_w2")
            }
            if second.rank == 4 { second = try second.reshaped([second.dim(0), -1]) }
            let scale = (rank.flatMap { r in alpha.map { $0 / Float(r) } }) ?? 1
            return try kronecker(first, second).scaled(by: scale).reshaped(shape)
        }
    }
}

private func kronecker(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    let (ar, ac) = (a.dim(0), a.count / a.dim(0)), (br, bc) = (b.dim(0), b.count / b.dim(0))
    return Tensor(shape: [ar * br, ac * bc]) { out in
        for i in 0..<ar {
            for j in 0..<ac {
                for k in 0..<br {
                    for l in 0..<bc {
                        out[(i * br + k) * (ac * bc) + j * bc + l] = a.scalars[i * ac + j] * b.scalars[k * bc + l]
                    }
                }
            }
        }
    }
}

/// A LoRA file's patches, keyed by the base name they target (`lora_unet_…`, `unet.…`, …).
public struct LoRAFile: Sendable {
    public let path: String
    public let patches: [String: WeightPatch]
    /// Keys that belong to no recognised patch format.
    public let unrecognizedKeys: [String]

    /// Tensor-name suffixes of each format, (up, down) order; ComfyUI `LoRAAdapter.load`.
    static let loraSuffixes: [(up: String, down: String)] = [
        (".lora_up.weight", ".lora_down.weight"), ("_lora.up.weight", "_lora.down.weight"),
        (".lora_B.weight", ".lora_A.weight"), (".lora.up.weight", ".lora.down.weight"), (".lora_B", ".lora_A"),
        (".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight"),
        (".lora_B.default.weight", ".lora_A.default.weight"),
    ]

    public init(path: String) throws {
        let file = try openModelFile(path: path)
        self.path = path
        var tensors: [String: Tensor] = [:]
        for key in file.keys { tensors[key] = try file.tensor(key) }
        var patches: [String: WeightPatch] = [:]
        var consumed = Set<String>()
        /// Each factor's rank is checked before `delta` reads its dimensions.
        func check(_ key: String, ranks: ClosedRange<Int>) throws {
            guard let shape = tensors[key]?.shape else { return }
            guard ranks.contains(shape.count), !shape.contains(0) else {
                throw ModelLoadError.unexpectedShape(
                    file: path, key: key, found: shape,
                    expected: ranks.count == 1
                        ? "\(ranks.lowerBound) non-zero dimensions"
                        : "\(ranks.lowerBound) to \(ranks.upperBound) non-zero dimensions")
            }
        }
        func alpha(_ base: String) -> Float? {
            guard let t = tensors[base + ".alpha"] else { return nil }
            consumed.insert(base + ".alpha")
            return t.scalars.first
        }
        for key in tensors.keys.sorted() {
            for (up, down) in Self.loraSuffixes where key.hasSuffix(down) {
                let base = String(key.dropLast(down.count))
                guard let upTensor = tensors[base + up], let downTensor = tensors[key] else { continue }
                try check(base + up, ranks: 2...4)
                try check(key, ranks: 2...4)
                try check(base + ".lora_mid.weight", ranks: 4...4)
                let mid = tensors[base + ".lora_mid.weight"]
                if mid != nil { consumed.insert(base + ".lora_mid.weight") }
                patches[base] = .lora(up: upTensor, down: downTensor, mid: mid, alpha: alpha(base))
                consumed.formUnion([key, base + up])
            }
            if key.hasSuffix(".hada_w1_a") {
                let base = String(key.dropLast(".hada_w1_a".count))
                if let w1b = tensors[base + ".hada_w1_b"], let w2a = tensors[base + ".hada_w2_a"],
                    let w2b = tensors[base + ".hada_w2_b"]
                {
                    for factor in ["_w1_a", "_w1_b", "_w2_a", "_w2_b"] {
                        try check(base + ".hada" + factor, ranks: 2...2)
                    }
                    patches[base] = .loha(w1a: tensors[key]!, w1b: w1b, w2a: w2a, w2b: w2b, alpha: alpha(base))
                    consumed.formUnion(["_w1_a", "_w1_b", "_w2_a", "_w2_b"].map { base + ".hada" + $0 })
                }
            }
            for marker in [".lokr_w1", ".lokr_w1_a"] where key.hasSuffix(marker) {
                let base = String(key.dropLast(marker.count))
                guard patches[base] == nil else { continue }
                let names = ["lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b"].map {
                    base + "." + $0
                }
                for (index, name) in names.enumerated() { try check(name, ranks: index == 3 ? 2...4 : 2...2) }
                let t = names.map { tensors[$0] }
                patches[base] = .lokr(
                    w1: t[0], w1a: t[1], w1b: t[2], w2: t[3], w2a: t[4], w2b: t[5], alpha: alpha(base))
                consumed.formUnion(names.filter { tensors[$0] != nil })
            }
        }
        // ComfyUI `load_lora`'s "diff" patches: `.diff` on the weight, `.diff_b` on its bias (keyed
        // `<base>.bias`, which `LoRAPatcher.target` resolves).
        for key in tensors.keys.sorted() where !consumed.contains(key) {
            for (suffix, target) in [(".diff", ""), (".diff_b", ".bias")] where key.hasSuffix(suffix) {
                let base = String(key.dropLast(suffix.count)) + target
                guard patches[base] == nil, let tensor = tensors[key] else { continue }
                patches[base] = .diff(tensor)
                consumed.insert(key)
            }
        }
        self.patches = patches
        unrecognizedKeys = tensors.keys.filter { !consumed.contains($0) }.sorted()
    }
}
