import Foundation
import LatentflowIO
import LatentflowTensor

/// An A1111 hypernetwork: per attention width, two small MLPs that add to the attention's key
/// and value sources (`k + mlp₀(k)·strength`, `v + mlp₁(v)·strength`), in self- and cross-attention.
///
/// Dropout layers are identity here (inference). ComfyUI builds them in torch's training mode and so
/// drops 30% of activations at random in every call when a file sets `use_dropout`; that noise is
/// not reproduced.
///
/// Matches: ComfyUI `comfy_extras/nodes_hypernetwork.py` `load_hypernetwork_patch`.
public struct Hypernetwork: Sendable {
    public enum Activation: String, Sendable, CaseIterable {
        case linear, relu, leakyrelu, elu, swish, tanh, sigmoid, softsign, mish

        /// torch's modules: LeakyReLU slope 0.01, ELU α 1, "swish" is `Hardswish`, Mish's
        /// softplus returns x above 20.
        func callAsFunction(_ x: Float) -> Float {
            switch self {
            case .linear: return x
            case .relu: return max(x, 0)
            case .leakyrelu: return x >= 0 ? x : 0.01 * x
            case .elu: return x > 0 ? x : Foundation.expm1(x)
            case .swish: return x * min(max(x + 3, 0), 6) / 6
            case .tanh: return Foundation.tanh(x)
            case .sigmoid: return 1 / (1 + Foundation.exp(-x))
            case .softsign: return x / (1 + abs(x))
            case .mish: return x * Foundation.tanh(x > 20 ? x : Foundation.log1p(Foundation.exp(x)))
            }
        }
    }

    enum Layer: Sendable {
        case linear(weight: Tensor, bias: Tensor)
        case activation(Activation)
        case layerNorm(weight: Tensor, bias: Tensor)

        func callAsFunction(_ x: Tensor) throws -> Tensor {
            switch self {
            case let .linear(weight, bias): return try x.linear(weight: weight, bias: bias)
            case let .activation(activation): return x.mapScalars { activation($0) }
            case let .layerNorm(weight, bias): return try x.layerNorm(weight: weight, bias: bias, epsilon: 1e-5)
            }
        }
    }

    /// The key and value MLPs by the width they apply to.
    let modules: [Int: (key: [Layer], value: [Layer])]
    public let strength: Float

    public var widths: [Int] { modules.keys.sorted() }

    /// Reads `path` (a `torch.save` pickle, through the restricted unpickler).
    public init(path: String, strength: Float) throws {
        let file = try TorchCheckpointFile(path: path)
        try self.init(file.root, file: file, strength: strength)
    }

    init(_ root: PickleValue, file: TorchCheckpointFile, strength: Float) throws {
        func fail(_ what: String) -> ModelLoadError { .unrecognized(file: file.path, reason: "hypernetwork: " + what) }
        let activationName = root["activation_func"]?.stringValue ?? "linear"
        guard let activation = Activation(rawValue: activationName) else {
            throw fail(
                "unsupported activation_func '\(activationName)' (ComfyUI handles: "
                    + Activation.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        let flags = Flags(root)
        var modules: [Int: (key: [Layer], value: [Layer])] = [:]
        for entry in root.dictEntries ?? [] {
            guard let width = Self.width(of: entry.key) else { continue }
            guard let pair = entry.value.elements, pair.count >= 2 else {
                throw fail("entry \(width) is not a pair of state dicts")
            }
            let mlps = try pair.prefix(2).map { stateDict in
                try Self.layers(stateDict, file: file, activation: activation, flags: flags) {
                    fail("entry \(width): \($0)")
                }
            }
            modules[width] = (mlps[0], mlps[1])
        }
        (self.modules, self.strength) = (modules, strength)
    }

    /// `int(d)` on a key: ints, and strings of digits.
    static func width(of key: PickleValue) -> Int? {
        if case let .int(value) = key { return value }
        if case let .string(text) = key { return Int(text.trimmingCharacters(in: .whitespaces)) }
        return nil
    }

    struct Flags {
        var layerNorm: Bool, dropout: Bool, activateOutput: Bool, lastLayerDropout: Bool
        init(_ root: PickleValue) {
            func flag(_ key: String) -> Bool {
                switch root[key] {
                case let .bool(value)?: return value
                case let .int(value)?: return value != 0
                default: return false
                }
            }
            layerNorm = flag("is_layer_norm")
            dropout = flag("use_dropout")
            activateOutput = flag("activate_output")
            lastLayerDropout = flag("last_layer_dropout")
        }
    }

    /// The layers ComfyUI builds from one state dict: its `.weight` keys in order, each a Linear
    /// (then the activation unless it is the last, or `activate_output`), followed by a LayerNorm
    /// taking the next `.weight` key when `is_layer_norm`. Dropout is left out (see the type's note).
    static func layers(
        _ stateDict: PickleValue, file: TorchCheckpointFile, activation: Activation, flags: Flags,
        fail: (String) -> ModelLoadError
    ) throws -> [Layer] {
        guard let entries = stateDict.dictEntries else { throw fail("a state dict is not a dict") }
        var tensors: [String: TorchTensorInfo] = [:]
        var names: [String] = []
        for entry in entries {
            guard case let .string(key) = entry.key else { continue }
            if case let .tensor(info) = entry.value { tensors[key] = info }
            if key.hasSuffix(".weight") { names.append(String(key.dropLast(".weight".count))) }
        }
        func pair(_ name: String) throws -> (Tensor, Tensor) {
            guard let weight = tensors[name + ".weight"], let bias = tensors[name + ".bias"] else {
                throw fail("\(name) needs a weight and a bias tensor")
            }
            return (try file.tensor(weight), try file.tensor(bias))
        }
        var layers: [Layer] = []
        var i = 0
        while i < names.count {
            let last = i == names.count - 1
            let (weight, bias) = try pair(names[i])
            guard weight.rank == 2, bias.shape == [weight.dim(0)] else {
                throw fail("\(names[i]) is not a Linear (weight \(weight.shape), bias \(bias.shape))")
            }
            layers.append(.linear(weight: weight, bias: bias))
            if activation != .linear, !last || flags.activateOutput { layers.append(.activation(activation)) }
            if flags.layerNorm {
                i += 1
                guard i < names.count else { throw fail("is_layer_norm is set but the last Linear has no LayerNorm") }
                let (lnWeight, lnBias) = try pair(names[i])
                guard lnWeight.shape == [weight.dim(0)], lnBias.shape == lnWeight.shape else {
                    throw fail("\(names[i]) is not a LayerNorm over \(weight.dim(0)) features")
                }
                layers.append(.layerNorm(weight: lnWeight, bias: lnBias))
            }
            i += 1
        }
        return layers
    }

    /// `k + mlp₀(k)·strength` and `v + mlp₁(v)·strength` when a module has k's width.
    public func apply(key k: Tensor, value v: Tensor) throws -> (Tensor, Tensor) {
        guard let module = modules[k.dim(-1)] else { return (k, v) }
        func run(_ layers: [Layer], _ x: Tensor) throws -> Tensor {
            try x.adding(layers.reduce(x) { try $1($0) }.scaled(by: strength))
        }
        return (try run(module.key, k), try run(module.value, v))
    }

    /// The `attn1_patch` and `attn2_patch` (ComfyUI sets the same patch for both).
    public var attentionPatch: UNetPatches.AttentionInput {
        let network = self
        return { q, k, v, _ in
            let (k, v) = try network.apply(key: k, value: v)
            return (q, k, v)
        }
    }
}
