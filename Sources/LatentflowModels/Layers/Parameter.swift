import Foundation
import LatentflowIO
import LatentflowTensor

/// How a loaded model keeps its weights between uses.
public enum WeightResidency: Sendable, Equatable {
    /// Widened to float32 once, at load: the fastest to compute with, and a float16 checkpoint
    /// takes twice its file size in memory.
    case float32
    /// Rounded to bfloat16 at load, as ComfyUI's `--bf16-unet` stores the UNet: half of float32's
    /// memory. Products in bfloat16 read their kept bfloat16 forms; products in float32 widen the
    /// weight per call.
    case bfloat16
    /// Left in the checkpoint file in the file's own dtype (float16 stays float16): each layer
    /// reads and widens its weight when it runs, so only the running layer's weight is in
    /// process memory (low-memory mode). Reads go through the OS page cache, so while memory
    /// allows they cost a copy, not disk reads (a PyTorch checkpoint's storages are read from
    /// its mapping, whose pages are released after each read).
    case streamed
}

/// A weight as a model holds it: a float32 tensor, a tensor of a model file, float16 values
/// (a LoRA-patched weight of a low-memory model, rounded as ComfyUI rounds patches of float16
/// weights), or bfloat16 values (`WeightResidency.bfloat16`). Layers ask for the values each time
/// they run (`withTensor`, or `withOperand` for products that can use bfloat16 values as they are).
public struct Parameter: Sendable {
    public private(set) var shape: [Int]
    private let storage: Storage
    /// Where a 3x3 convolution keeps this weight's Winograd transform between calls: only for
    /// float32 values in memory (a low-memory model's weights stay in their file).
    public private(set) var winogradCache: WinogradWeightCache?
    /// Where the layer keeps this weight's bfloat16 forms for the bfloat16 mode (`ProductPrecision`):
    /// only for float32 values in memory, as `winogradCache`.
    public private(set) var bfloat16Cache: BFloat16WeightCache?

    private enum Storage: Sendable {
        case resident(Tensor)
        case file(ArchivedTensor, roundToFloat16: Bool)
        case float16([UInt16])
        case bfloat16([UInt16])
    }

    public init(_ tensor: Tensor) {
        (shape, storage) = (tensor.shape, .resident(tensor))
        (winogradCache, bfloat16Cache) = (WinogradWeightCache(), BFloat16WeightCache())
    }

    /// One tensor of a safetensors file, read when used; `roundToFloat16` rounds each widened value to
    /// float16 (ComfyUI keeps the text encoder in float16 even when the file holds float32).
    public init(streaming entry: SafeTensorsEntry, from file: SafeTensorsFile, roundToFloat16: Bool = false) {
        self.init(streaming: .safetensors(file, entry), roundToFloat16: roundToFloat16)
    }

    /// One tensor of a model file (safetensors or PyTorch checkpoint), read when used.
    public init(streaming tensor: ArchivedTensor, roundToFloat16: Bool = false) {
        shape = tensor.shape
        storage = .file(tensor, roundToFloat16: roundToFloat16 && tensor.dtype != .float16)
    }

    /// `tensor` rounded to float16 and kept so.
    public init(float16 tensor: Tensor) { (shape, storage) = (tensor.shape, .float16(tensor.float16Bits)) }

    /// `tensor` rounded to bfloat16 (to nearest even, as `tensor.to(torch.bfloat16)`) and kept so,
    /// with the caches a resident weight has: its bfloat16 forms are made from these values.
    public init(bfloat16 tensor: Tensor) {
        (shape, storage) = (tensor.shape, .bfloat16(tensor.bfloat16Bits))
        (winogradCache, bfloat16Cache) = (WinogradWeightCache(), BFloat16WeightCache())
    }

    /// `values` in place of this weight, kept as this weight is kept, as ComfyUI casts a patched
    /// weight back to the weight's dtype: bfloat16 stays bfloat16; a weight not held in float32 (left
    /// in its file, or float16) becomes float16, so a patch does not bring back the float32 copy
    /// low-memory mode avoids; a float32 weight stays float32, or is rounded to float16 where
    /// `float16Weights` (the text encoder ComfyUI keeps in float16).
    public func replaced(by values: Tensor, float16Weights: Bool = false) -> Parameter {
        switch storage {
        case .bfloat16: return Parameter(bfloat16: values)
        case .file, .float16: return Parameter(float16: values)
        case .resident:
            guard float16Weights, let rounded = try? Tensor(shape: values.shape, float16Bits: values.float16Bits)
            else { return Parameter(values) }
            return Parameter(rounded)
        }
    }

    /// The weight in float32. A weight in a file is read from the file and widened each time.
    public func tensor() -> Tensor {
        switch storage {
        case .resident(let tensor):
            return tensor.shape == shape ? tensor : (try? tensor.reshaped(shape)) ?? tensor
        case let .file(archived, roundToFloat16):
            var tensor = Tensor(shape: archived.shape) { archived.stream(into: $0) }
            if roundToFloat16 { tensor = (try? Tensor(shape: shape, float16Bits: tensor.float16Bits)) ?? tensor }
            return (try? tensor.reshaped(shape)) ?? tensor
        case .float16(let bits):
            return (try? Tensor(shape: shape, float16Bits: bits)) ?? Tensor(shape: shape)
        case .bfloat16(let bits):
            return (try? Tensor(shape: shape, bfloat16Bits: bits)) ?? Tensor(shape: shape)
        }
    }

    /// Runs `body` with the weight as a product's operand: bfloat16 values as they are (widened only
    /// if the product needs float32), anything else in float32 as `withTensor` gives it.
    public func withOperand<R>(_ body: (WeightOperand) throws -> R) rethrows -> R {
        if case .bfloat16(let bits) = storage { return try body(.bfloat16(shape: shape, bits: bits)) }
        return try withTensor { try body(.float32($0)) }
    }

    /// Runs `body` with the weight in float32. A weight in a file is widened into a recycled
    /// buffer: a fresh allocation per layer call would cost a page fault per 4 KiB written,
    /// gigabytes per UNet forward.
    public func withTensor<R>(_ body: (Tensor) throws -> R) rethrows -> R {
        guard case let .file(archived, roundToFloat16) = storage, !roundToFloat16 else { return try body(tensor()) }
        var buffer = WideningBuffers.shared.take(archived.elementCount)
        buffer.withUnsafeMutableBufferPointer { archived.stream(into: $0) }
        var widened: Tensor? = try? Tensor(shape: shape, scalars: buffer)
        buffer = []
        defer {
            // Unique again once the layer is done with it, unless the layer kept the tensor.
            if let scalars = widened?.scalars {
                widened = nil
                WideningBuffers.shared.recycle(scalars)
            }
        }
        return try body(widened!)
    }

    /// The same values under another shape of the same element count (a linear layer stored as
    /// a 1x1 convolution, or the reverse).
    public func reshaped(_ newShape: [Int]) -> Parameter? {
        guard newShape.reduce(1, *) == shape.reduce(1, *) else { return nil }
        var copy = self
        copy.shape = newShape
        // A transform or a packed form is of one shape.
        if winogradCache != nil { copy.winogradCache = WinogradWeightCache() }
        if bfloat16Cache != nil { copy.bfloat16Cache = BFloat16WeightCache() }
        return copy
    }

    /// The bfloat16 forms for layers to use now: the cache while the calling model computes in
    /// bfloat16 (`ProductPrecision.current`), else nil.
    public var bfloat16ForCurrentPrecision: BFloat16WeightCache? {
        ProductPrecision.current == .bfloat16 ? bfloat16Cache : nil
    }

    /// Whether the float32 values sit in memory (not left in a file, nor as float16 or bfloat16).
    public var isFloat32Resident: Bool {
        if case .resident = storage { return true }
        return false
    }

    /// Bytes this weight keeps in process memory between uses.
    public var residentBytes: Int {
        switch storage {
        case .resident(let tensor): return tensor.count * 4
        case .file: return 0
        case .float16(let bits), .bfloat16(let bits): return bits.count * 2
        }
    }
}

extension Dictionary where Value == Parameter {
    /// Bytes the weights keep in process memory between uses.
    public var residentBytes: Int { values.reduce(0) { $0 + $1.residentBytes } }
}

/// Float32 buffers for widened weights, kept for reuse by element count: the UNet's layers
/// repeat a handful of large shapes (1280x2560x3x3 and the like), so a few buffers serve them
/// all. Bounded, least recently used first out; small buffers are left to malloc.
final class WideningBuffers: @unchecked Sendable {
    static let shared = WideningBuffers(capacityBytes: 256 << 20)

    private let capacityBytes: Int
    private let minimumCount = 1 << 18
    private var free: [[Float]] = []
    private let lock = NSLock()

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    func take(_ count: Int) -> [Float] {
        lock.lock()
        if let index = free.lastIndex(where: { $0.count == count }) {
            defer { lock.unlock() }
            return free.remove(at: index)
        }
        lock.unlock()
        // Every element is written by the widening that follows.
        return [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    func recycle(_ buffer: [Float]) {
        guard buffer.count >= minimumCount, buffer.count * 4 <= capacityBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
        var bytes = free.reduce(0) { $0 + $1.count * 4 }
        while bytes > capacityBytes {
            bytes -= free.removeFirst().count * 4
        }
    }
}
