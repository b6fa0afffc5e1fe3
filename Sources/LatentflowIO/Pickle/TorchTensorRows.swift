extension TorchTensorInfo {
    /// Rows `range` along the first axis as a view of their own, over the same storage (fused
    /// weights, such as OpenCLIP's stacked q/k/v projection, split without a copy). A
    /// sub-range of a validated view lies inside its storage, so the result is valid too.
    public func rows(_ range: Range<Int>) -> TorchTensorInfo? {
        guard let first = shape.first, let stride = strides.first, range.lowerBound >= 0,
            range.upperBound <= first
        else { return nil }
        return TorchTensorInfo(
            dtype: dtype, shape: [range.count] + shape.dropFirst(), strides: strides,
            storageOffset: storageOffset + range.lowerBound * stride, storageKey: storageKey,
            requiresGrad: requiresGrad)
    }
}
