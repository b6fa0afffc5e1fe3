import LatentflowTensor

/// ComfyUI's IMAGE: a float32 batch `[B, H, W, C]` with values in 0...1 (C = 3).
public struct ImageBatch: PortValue, MemoryFootprint {
    public static var portType: PortType { .image }
    public var pixels: Tensor

    public init(_ pixels: Tensor) { self.pixels = pixels }

    public var count: Int { pixels.shape[0] }
    public var height: Int { pixels.shape[1] }
    public var width: Int { pixels.shape[2] }
    public var channels: Int { pixels.shape[3] }
    public var byteCount: Int { pixels.count * 4 }

    /// `[B, C, H, W]`, the layout resizing and the VAE work in.
    public func channelsFirst() throws -> Tensor { try pixels.permuted([0, 3, 1, 2]) }

    public init(channelsFirst tensor: Tensor) throws { pixels = try tensor.permuted([0, 2, 3, 1]) }
}

/// ComfyUI's MASK: float32 `[B, H, W]`, 1 where the image is masked.
public struct Mask: PortValue, MemoryFootprint {
    public static var portType: PortType { .mask }
    public var values: Tensor

    public init(_ values: Tensor) { self.values = values }
    public var byteCount: Int { values.count * 4 }
}
