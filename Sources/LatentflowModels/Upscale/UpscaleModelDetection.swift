import LatentflowIO
import LatentflowTensor

/// Reads an upscale model file and builds the network its keys describe, as spandrel's
/// `ModelLoader().load_from_state_dict` does for the architectures supported here; any other
/// state dict is refused, naming what was looked for.
///
/// Matches: spandrel `architectures/ESRGAN/__init__.py` `ESRGANArch` (detect, load) and
/// `architectures/Compact/__init__.py` `CompactArch`; Compact is tried first, as in spandrel's
/// `MAIN_REGISTRY`.
public enum UpscaleModelDetection {
    public static func load(path: String) throws -> (network: any UpscaleNetwork, bytes: Int) {
        let tensors = try UpscaleStateDict.load(path: path)
        let bytes = tensors.values.reduce(0) { $0 + $1.count * 4 }
        return (try network(from: tensors, file: path), bytes)
    }

    public static func network(from tensors: [String: Tensor], file: String) throws -> any UpscaleNetwork {
        func has(_ keys: String...) -> Bool { keys.allSatisfy { tensors[$0] != nil } }
        if has("body.0.weight", "body.1.weight") {
            return try compact(tensors, file: file)
        }
        if has("model.0.weight", "model.1.sub.0.RDB1.conv1.0.weight")
            || has("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_last.weight")
            || has("conv_first.weight", "RRDB_trunk.0.RDB1.conv1.weight", "trunk_conv.weight", "conv_last.weight")
            || has("model.0.weight", "model.1.sub.0.RDB1.conv1x1.weight")
        {
            return try rrdbNet(ESRGANKeyMap.toOldLayout(tensors), file: file)
        }
        let sample = tensors.keys.sorted().prefix(6).joined(separator: ", ")
        throw ModelLoadError.unrecognized(
            file: file,
            reason:
                "unsupported upscale model architecture: supported are ESRGAN/RRDBNet (old `model.0`/`model.1.sub` keys, `conv_first`/`body.N.rdbK` or `RRDB_trunk`) and Real-ESRGAN Compact (`body.0`, `body.1` PReLU); the file's keys begin \(sample)"
        )
    }

    /// spandrel `get_seq_len`: one more than the largest `N` of keys `<prefix>.N.…`.
    static func sequenceLength(_ tensors: [String: Tensor], _ prefix: String) -> Int {
        var length = 0
        for key in tensors.keys where key.hasPrefix(prefix + ".") {
            if let n = Int(key.dropFirst(prefix.count + 1).prefix { $0 != "." }) { length = max(length, n + 1) }
        }
        return length
    }

    static func rrdbNet(_ tensors: [String: Tensor], file: String) throws -> RRDBNet {
        let store = WeightStore(tensors, source: file)
        let root = store.root
        let length = sequenceLength(tensors, "model")
        let blocks = sequenceLength(tensors, "model.1.sub") - 1
        guard length >= 5, (length - 5) % 3 == 0, blocks >= 1 else {
            throw ModelLoadError.unrecognized(
                file: file,
                reason:
                    "ESRGAN layer sequence of \(length) layers and \(blocks) blocks: expected 5 + 3·log2(scale) layers and at least one block"
            )
        }
        let firstShape = try root.checkedShape("model.0.weight", rank: 4) ?? []
        let lastShape = try root.checkedShape("model.\(length - 1).weight", rank: 4) ?? []
        let growthShape = try root.checkedShape("model.1.sub.0.RDB1.conv1.0.weight", rank: 4) ?? []
        try root.require(firstShape.count == 4, "model.0.weight", expected: "a 4-D conv weight")
        try root.require(lastShape.count == 4, "model.\(length - 1).weight", expected: "a 4-D conv weight")
        try root.require(
            growthShape.count == 4, "model.1.sub.0.RDB1.conv1.0.weight", expected: "a 4-D conv weight")
        let (inChannels, outChannels) = (firstShape[1], lastShape[0])
        var shuffle: Int? = nil
        if inChannels == outChannels * 4 || inChannels == outChannels * 16 {
            shuffle = inChannels == outChannels * 4 ? 2 : 4
        }
        let networkScale = 1 << ((length - 5) / 3)
        let configuration = RRDBNet.Configuration(
            inChannels: inChannels, outChannels: outChannels, features: firstShape[0], blocks: blocks,
            growth: growthShape[0], networkScale: networkScale,
            plus: tensors.keys.contains { $0.contains(".conv1x1.") }, shuffleFactor: shuffle)
        if let shuffle, networkScale < shuffle {
            throw ModelLoadError.unrecognized(
                file: file,
                reason:
                    "ESRGAN with a pixel unshuffle by \(shuffle) needs a scale of at least \(shuffle), found \(networkScale)"
            )
        }
        let network = RRDBNet(root, configuration: configuration)
        try store.verify()
        return network
    }

    static func compact(_ tensors: [String: Tensor], file: String) throws -> SRVGGNetCompact {
        let store = WeightStore(tensors, source: file)
        let root = store.root
        let highest = sequenceLength(tensors, "body") - 1
        let firstShape = try root.checkedShape("body.0.weight", rank: 4) ?? []
        let lastBias = try root.checkedShape("body.\(highest).bias", rank: 1) ?? []
        try root.require(firstShape.count == 4, "body.0.weight", expected: "a 4-D conv weight")
        try root.require(lastBias.count == 1, "body.\(highest).bias", expected: "the last conv's bias")
        guard highest >= 2, highest % 2 == 0 else {
            throw ModelLoadError.unrecognized(
                file: file, reason: "Compact body of \(highest + 1) layers: expected conv/PReLU pairs and a last conv")
        }
        let inChannels = firstShape[1]
        guard let (scale, outChannels) = scaleAndOutputChannels(lastBias[0], inputChannels: inChannels) else {
            throw ModelLoadError.unexpectedShape(
                file: file, key: "body.\(highest).bias", found: lastBias,
                expected: "scale² · output channels with 1, 3 or 4 (or the input's) output channels")
        }
        let configuration = SRVGGNetCompact.Configuration(
            inChannels: inChannels, outChannels: outChannels, features: firstShape[0], convs: (highest - 2) / 2,
            scale: scale)
        let network = SRVGGNetCompact(root, configuration: configuration)
        try store.verify()
        return network
    }

    /// spandrel `util.get_scale_and_output_channels`: the first of (input channels, 3, 4, 1) that
    /// divides `x` into a square.
    static func scaleAndOutputChannels(_ x: Int, inputChannels: Int) -> (Int, Int)? {
        for c in [inputChannels, 3, 4, 1] where c > 0 && x % c == 0 {
            let root = Int(Double(x / c).squareRoot().rounded())
            if root * root == x / c { return (root, c) }
        }
        return nil
    }
}
