/// TAESD's dense work, for the benchmark's GFLOP figures: the multiply-adds of its convolutions
/// (weight elements × output pixels; 2 FLOPs each), the only work PyTorch's FLOP counter counts
/// in it (ReLU, the clamp, the skip additions and the nearest upsampling are elementwise).
/// Read off the loaded layers, so a 64-wide release file and a narrow stand-in are both counted
/// as they run.
extension TAESD {
    /// Multiply-adds of one decode of a `latentHeight` x `latentWidth` latent (batch 1).
    public func decoderMultiplyAdds(latentHeight: Int, latentWidth: Int) -> Int {
        decoder.multiplyAdds(height: latentHeight, width: latentWidth)
    }

    /// Multiply-adds of one encode of an `imageHeight` x `imageWidth` image (batch 1); nil when
    /// this TAESD has no encoder.
    public func encoderMultiplyAdds(imageHeight: Int, imageWidth: Int) -> Int? {
        encoder?.multiplyAdds(height: imageHeight, width: imageWidth)
    }
}

extension Conv2D {
    /// Multiply-adds at this output size: each output pixel takes every weight element once.
    func multiplyAdds(outputHeight: Int, outputWidth: Int) -> Int {
        weight.shape.reduce(1, *) * outputHeight * outputWidth
    }

    /// The output side of an input side (3x3 "same" padding, or a 1x1 kernel; stride 1 or 2).
    func outputSide(_ side: Int) -> Int {
        let kernel = weight.shape[2]
        return (side + 2 * (kernel / 2) - kernel) / stride + 1
    }
}

extension TAESDBlock {
    func multiplyAdds(height: Int, width: Int) -> Int {
        ([conv0, conv2, conv4] + (skip.map { [$0] } ?? [])).reduce(0) {
            $0 + $1.multiplyAdds(outputHeight: height, outputWidth: width)
        }
    }
}

extension TAESDEncoder {
    func multiplyAdds(height: Int, width: Int) -> Int {
        var (h, w) = (height, width)
        var total = convIn.multiplyAdds(outputHeight: h, outputWidth: w) + first.multiplyAdds(height: h, width: w)
        for stage in stages {
            (h, w) = (stage.down.outputSide(h), stage.down.outputSide(w))
            total += stage.down.multiplyAdds(outputHeight: h, outputWidth: w)
            total += stage.blocks.reduce(0) { $0 + $1.multiplyAdds(height: h, width: w) }
        }
        return total + convOut.multiplyAdds(outputHeight: h, outputWidth: w)
    }
}

extension TAESDDecoder {
    func multiplyAdds(height: Int, width: Int) -> Int {
        var (h, w) = (height, width)
        var total = convIn.multiplyAdds(outputHeight: h, outputWidth: w)
        for stage in stages {
            total += stage.blocks.reduce(0) { $0 + $1.multiplyAdds(height: h, width: w) }
            (h, w) = (2 * h, 2 * w)
            total += stage.up.multiplyAdds(outputHeight: h, outputWidth: w)
        }
        return total + last.multiplyAdds(height: h, width: w) + convOut.multiplyAdds(outputHeight: h, outputWidth: w)
    }
}
