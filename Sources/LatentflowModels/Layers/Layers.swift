import LatentflowTensor

/// `nn.Linear`: weight `[out, in]`, optional bias.
public struct Linear: Sendable {
    public var weight: Parameter
    public var bias: Tensor?

    /// - Parameter storedAsConv: the checkpoint stores the weight as a 1x1 convolution
    ///   `[out, in, 1, 1]` (the VAE's attention projections).
    public init(
        _ scope: WeightScope, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true,
        storedAsConv: Bool = false
    ) {
        if storedAsConv {
            let stored = scope.parameter("weight", shape: [outFeatures, inFeatures, 1, 1])
            weight = stored.reshaped([outFeatures, inFeatures]) ?? stored
        } else {
            weight = scope.parameter("weight", shape: [outFeatures, inFeatures])
        }
        bias = hasBias ? scope.tensor("bias", shape: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try weight.withOperand { try x.linear(weight: $0, bias: bias, bfloat16: weight.bfloat16ForCurrentPrecision) }
    }
}

/// `nn.Conv2d` with square kernels.
public struct Conv2D: Sendable {
    public var weight: Parameter
    public var bias: Tensor?
    public var stride: Int
    public var padding: Padding2D

    public init(
        _ scope: WeightScope, in inChannels: Int, out outChannels: Int, kernel: Int,
        stride: Int = 1, padding: Int? = nil, bias hasBias: Bool = true
    ) {
        weight = scope.parameter("weight", shape: [outChannels, inChannels, kernel, kernel])
        bias = hasBias ? scope.tensor("bias", shape: [outChannels]) : nil
        self.stride = stride
        self.padding = .uniform(padding ?? kernel / 2)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try weight.withOperand {
            try x.conv2d(
                weight: $0, bias: bias, stride: stride, padding: padding, winogradCache: weight.winogradCache,
                bfloat16: weight.bfloat16ForCurrentPrecision)
        }
    }
}

/// `nn.GroupNorm`, optionally followed by SiLU in the same pass.
public struct GroupNorm: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var groups: Int
    public var epsilon: Float

    public init(_ scope: WeightScope, channels: Int, groups: Int = 32, epsilon: Float) {
        weight = scope.tensor("weight", shape: [channels])
        bias = scope.tensor("bias", shape: [channels])
        self.groups = groups
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor, silu: Bool = false) throws -> Tensor {
        try x.groupNorm(groups: groups, weight: weight, bias: bias, epsilon: epsilon, fuseSiLU: silu)
    }
}

/// `nn.LayerNorm` over the last dimension.
public struct LayerNorm: Sendable {
    public var weight: Tensor
    public var bias: Tensor
    public var epsilon: Float

    public init(_ scope: WeightScope, width: Int, epsilon: Float = 1e-5) {
        weight = scope.tensor("weight", shape: [width])
        bias = scope.tensor("bias", shape: [width])
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }
}

extension Tensor {
    /// `[B, C, H, W] -> [B, H·W, C]`, the token layout attention works in.
    func channelsToTokens() throws -> Tensor {
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return try reshaped([b, c, h * w]).permuted([0, 2, 1])
    }

    /// `[B, H·W, C] -> [B, C, H, W]`.
    func tokensToChannels(height: Int, width: Int) throws -> Tensor {
        try permuted([0, 2, 1]).reshaped([shape[0], shape[2], height, width])
    }
}
