// 2-D convolution as PyTorch's `F.conv2d` (NCHW input, `[Cout, Cin, kH, kW]` weight), on GEMM.
//
// A 1x1 stride-1 convolution is one GEMM per image; 3x3 "same" convolutions on maps at least
// 32 wide go through Winograd F(4x4, 3x3) or F(2x2, 3x3) (`WinogradConvolution`); 16-wide
// maps with large weights too, through F(2x2), when the layer keeps its transformed weight
// (`WinogradConvolution.appliesWhenKept`). Anything
// else goes through im2col: on small maps (im2col matrix up to 32 MB) one matrix for the image
// and one GEMM split by output channel (`weightProduct`: on SD's deepest maps, 64 pixels or
// fewer, a kernel that reads the weight in place); on large ones band by band, each band's im2col matrix
// `[Cin·kH·kW, rows·Wout]` built in a cache-sized scratch buffer and multiplied on one core
// while the other cores do the next bands, so the full matrix (47 MB for SD's 320-channel
// 64x64 layers) never exists.

/// Zero padding on each side of a 2-D map (PyTorch's `padding=(h, w)`, or asymmetric).
public struct Padding2D: Sendable, Equatable {
    public var top: Int, bottom: Int, left: Int, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    /// The same padding on every side, as PyTorch's `padding=p`.
    public static func uniform(_ p: Int) -> Padding2D { Padding2D(top: p, bottom: p, left: p, right: p) }
}

extension Tensor {
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) throws -> Tensor {
        try conv2d(weight: weight, bias: bias, stride: stride, padding: .uniform(padding))
    }

    /// - Parameter winogradCache: where a layer keeps its transformed weight between calls (see
    ///   `WinogradWeightCache`); only for a weight whose values never change.
    /// - Parameter bfloat16: the weight's bfloat16 forms, to compute in bfloat16 (`ProductPrecision`):
    ///   every path below but the banded im2col of large maps (VAE-sized, never a UNet's) takes
    ///   them; only for a weight whose values never change.
    public func conv2d(
        weight: Tensor, bias: Tensor?, stride: Int, padding: Padding2D, winogradCache: WinogradWeightCache? = nil,
        bfloat16: BFloat16WeightCache? = nil
    ) throws -> Tensor {
        try conv2d(
            weight: .float32(weight), bias: bias, stride: stride, padding: padding, winogradCache: winogradCache,
            bfloat16: bfloat16)
    }

    /// `conv2d` with the weight as a layer holds it (float32, or bfloat16 values that are widened
    /// only when no kept bfloat16 form serves the product).
    public func conv2d(
        weight: WeightOperand, bias: Tensor?, stride: Int, padding: Padding2D,
        winogradCache: WinogradWeightCache? = nil, bfloat16: BFloat16WeightCache? = nil
    ) throws -> Tensor {
        try requireShape(
            rank == 4 && weight.rank == 4, "conv2d needs NCHW input and a 4-D weight, got \(shape) and \(weight.shape)")
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (cout, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        try requireShape(
            weight.shape[1] == cin,
            "conv2d weight \(weight.shape) expects \(weight.shape[1]) input channels, input \(shape) has \(cin)")
        if let bias { try requireShape(bias.shape == [cout], "conv2d bias \(bias.shape) for \(cout) output channels") }
        guard stride >= 1 else { throw TensorError.invalidArgument("conv2d stride must be >= 1, got \(stride)") }
        let ho = (h + padding.top + padding.bottom - kh) / stride + 1
        let wo = (w + padding.left + padding.right - kw) / stride + 1
        try requireShape(ho > 0 && wo > 0, "conv2d kernel \(kh)x\(kw) does not fit input \(shape) with \(padding)")
        let geometry = ConvGeometry(
            cin: cin, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo)

        var result = Tensor(shape: [n, cout, ho, wo])
        withUnsafeBufferPointer { x in
            weight.withValues { wt in
                result.withUnsafeMutableBufferPointer { out in
                    let input = x.baseAddress!, output = out.baseAddress!
                    if let bfloat16,
                        WinogradConvolution.appliesWhenKept(
                            cin: cin, cout: cout, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding),
                        WinogradConvolution.runKept(
                            images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: wt,
                            bias: bias?.scalars, output: output, cache: winogradCache, bfloat16: bfloat16)
                    {
                        return
                    }
                    if bfloat16 == nil, let winogradCache,
                        WinogradConvolution.appliesWhenKept(
                            cin: cin, cout: cout, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding),
                        WinogradConvolution.runKept(
                            images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: wt,
                            bias: bias?.scalars, output: output, cache: winogradCache)
                    {
                        return
                    }
                    if WinogradConvolution.applies(
                        cin: cin, cout: cout, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding)
                    {
                        WinogradConvolution.run(
                            images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: wt,
                            bias: bias?.scalars, output: output, cache: winogradCache, bfloat16: bfloat16)
                        return
                    }
                    if let bias { fillChannels(output, bias.scalars, images: n, spatial: ho * wo) }
                    let beta: Float = bias == nil ? 0 : 1
                    if kh == 1 && kw == 1 && stride == 1 && padding == .uniform(0) {
                        for image in 0..<n {
                            weightProduct(
                                n: cout, s: h * w, k: cin, w: wt, ldw: cin, b: input + image * cin * h * w,
                                ldb: h * w,
                                accumulate: bias != nil, c: output + image * cout * h * w, ldc: h * w,
                                bfloat16: bfloat16)
                        }
                    } else {
                        geometry.run(
                            images: n, cout: cout, input: input, weight: wt, output: output, beta: beta,
                            bfloat16: bfloat16)
                    }
                }
            }
        }
        return result
    }
}

/// Writes each channel's bias over its spatial extent, for GEMMs that then accumulate (beta 1).
private func fillChannels(_ output: UnsafeMutablePointer<Float>, _ bias: [Float], images: Int, spatial: Int) {
    let channels = bias.count
    parallelFor(images * channels) { task in
        (output + task * spatial).update(repeating: bias[task % channels], count: spatial)
    }
}

private struct ConvGeometry {
    let cin, h, w, kh, kw, stride: Int
    let padding: Padding2D
    let ho, wo: Int

    var patchSize: Int { cin * kh * kw }

    /// Output rows per band: about 1.5 MB of im2col scratch, at least one row.
    var rowsPerBand: Int { max(1, min(ho, (1_572_864 / 4) / max(1, patchSize * wo))) }

    /// With `bfloat16`, maps whose im2col matrix fits the small-map limit multiply in bfloat16;
    /// larger ones (only a VAE's) stay on the float32 bands.
    func run(
        images: Int, cout: Int, input: UnsafePointer<Float>, weight: WeightValues,
        output: UnsafeMutablePointer<Float>, beta: Float, bfloat16: BFloat16WeightCache? = nil
    ) {
        // Small maps: one im2col matrix for the whole image and one GEMM split by output channel,
        // so OpenBLAS packs the weight once instead of once per band. Up to 32 MB: SD's deep
        // levels (1280-2560 channels at 16x16 and 8x8) have weights of 59-118 MB whose packing
        // per band of a few dozen columns cost about as much as the band's arithmetic.
        let limit = 8 << 20  // floats
        if patchSize * ho * wo <= limit {
            let columns = ho * wo
            // A batch (CFG's two halves) shares one GEMM when its matrices fit: images side by side.
            let fused = images > 1 && images * max(patchSize, cout) * columns <= limit
            let group = fused ? images : 1
            let ld = group * columns
            let col = UnsafeMutablePointer<Float>.allocate(capacity: patchSize * ld)
            let product = fused ? UnsafeMutablePointer<Float>.allocate(capacity: cout * ld) : nil
            defer {
                col.deallocate()
                product?.deallocate()
            }
            for first in Swift.stride(from: 0, to: images, by: group) {
                for image in first..<(first + group) {
                    parallelChunks(cin, chunksPerThread: 4) { channels, _ in
                        im2col(
                            input + image * cin * h * w, rows: 0..<ho, channels: channels,
                            into: col + (image - first) * columns, leadingDimension: ld)
                    }
                }
                guard let product else {
                    weightProduct(
                        n: cout, s: columns, k: patchSize, w: weight, ldw: patchSize, b: col, ldb: columns,
                        accumulate: beta != 0, c: output + first * cout * columns, ldc: columns, bfloat16: bfloat16)
                    continue
                }
                weightProduct(
                    n: cout, s: ld, k: patchSize, w: weight, ldw: patchSize, b: col, ldb: ld,
                    accumulate: false, c: product, ldc: ld, bfloat16: bfloat16)
                // [cout, images·columns] back to [images, cout, columns], onto the bias if any.
                parallelFor(group * cout) { task in
                    let (image, channel) = (task / cout, task % cout)
                    let source = product + channel * ld + image * columns
                    let target = output + ((first + image) * cout + channel) * columns
                    if beta == 0 {
                        target.update(from: source, count: columns)
                    } else {
                        for i in 0..<columns { target[i] += source[i] }
                    }
                }
            }
            return
        }
        let rows = rowsPerBand
        let bandsPerImage = (ho + rows - 1) / rows
        // One scratch band per thread, reused across the ranges it claims.
        let bandSize = patchSize * rows * wo
        let scratchBands = UnsafeMutablePointer<Float>.allocate(capacity: Threads.count * bandSize)
        defer { scratchBands.deallocate() }
        let weight = weight.pointer  // widened here, before the threads share it
        parallelChunks(images * bandsPerImage, chunksPerThread: 4) { tasks, thread in
            let scratch = scratchBands + thread * bandSize
            for task in tasks {
                let image = task / bandsPerImage
                let row0 = (task % bandsPerImage) * rows, row1 = min(ho, row0 + rows)
                let columns = (row1 - row0) * wo
                im2col(input + image * cin * h * w, rows: row0..<row1, into: scratch)
                sgemmSerial(
                    transA: false, transB: false, m: cout, n: columns, k: patchSize,
                    a: weight, lda: patchSize, b: scratch, ldb: columns,
                    beta: beta, c: output + image * cout * ho * wo + row0 * wo, ldc: ho * wo)
            }
        }
    }

    /// Fills `[Cin·kH·kW, rows·Wout]` for the given output rows, zeros where the kernel overhangs.
    /// Rows `(c·kH + ky)·kW + kx` of the im2col matrix for output rows `rows`; a row is
    /// `rows.count · Wout` long and starts `leadingDimension` (default: that length) after the last.
    func im2col(
        _ image: UnsafePointer<Float>, rows: Range<Int>, channels: Range<Int>? = nil,
        into col: UnsafeMutablePointer<Float>,
        leadingDimension: Int? = nil
    ) {
        let columns = leadingDimension ?? rows.count * wo
        for c in channels ?? 0..<cin {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    var dst = col + ((c * kh + ky) * kw + kx) * columns
                    // Output columns whose input column lies inside the image: [oxStart, oxEnd).
                    let oxStart = min(wo, max(0, (padding.left - kx + stride - 1) / stride))
                    let lastInside = w - 1 + padding.left - kx
                    let oxEnd = lastInside < 0 ? oxStart : max(oxStart, min(wo, lastInside / stride + 1))
                    for oy in rows {
                        let iy = oy * stride - padding.top + ky
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: wo)
                        } else {
                            let src = image + (c * h + iy) * w - padding.left + kx
                            if oxStart > 0 { dst.update(repeating: 0, count: oxStart) }
                            if stride == 1 {
                                (dst + oxStart).update(from: src + oxStart, count: oxEnd - oxStart)
                            } else {
                                for ox in oxStart..<oxEnd { dst[ox] = src[ox * stride] }
                            }
                            if oxEnd < wo { (dst + oxEnd).update(repeating: 0, count: wo - oxEnd) }
                        }
                        dst += wo
                    }
                }
            }
        }
    }
}
