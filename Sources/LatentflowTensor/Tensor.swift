import Foundation

/// The numeric layer of Latentflow.
///
/// Layout convention, used everywhere above this module: a `Tensor` is a dense, contiguous,
/// row-major float32 array in PyTorch order (images and latents are NCHW, sequences are
/// [batch, tokens, channels]), so fixtures from PyTorch compare index for index.
/// Storage is a Swift array, so copies are cheap and writes copy on demand.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public internal(set) var scalars: [Float]

    /// A tensor filled with one value.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor over the given scalars; their count must equal the shape's element count.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == scalars.count else {
            throw TensorError.shapeMismatch(
                "shape \(shape) holds \(shape.reduce(1, *)) elements, got \(scalars.count) values")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor whose elements the closure writes; it must write every element.
    public init(shape: [Int], unsafeUninitialized fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer)
            initialized = count
        }
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The size of a dimension; negative indices count from the end.
    public func dim(_ axis: Int) -> Int { shape[normalizedAxis(axis)] }

    func normalizedAxis(_ axis: Int) -> Int { axis < 0 ? axis + shape.count : axis }

    /// The same elements under another shape; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch("cannot reshape \(shape) to \(newShape)")
            }
            resolved[inferred] = count / known
        }
        guard resolved.allSatisfy({ $0 >= 0 }), resolved.reduce(1, *) == count else {
            throw TensorError.shapeMismatch("cannot reshape \(shape) to \(newShape)")
        }
        var result = self
        result.shape = resolved
        return result
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Element access by full index; for tests and small tensors, not inner loops.
    public subscript(_ index: Int...) -> Float {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not fit shape \(shape)")
        var flat = 0
        for (i, size) in zip(index, shape) {
            precondition(i >= 0 && i < size, "index \(index) out of bounds for shape \(shape)")
            flat = flat * size + i
        }
        return flat
    }
}

/// Errors of the tensor layer: always say which shapes disagreed.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return "shape mismatch: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(6).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(preview)\(count > 6 ? ", …" : "")])"
    }
}

func requireShape(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw TensorError.shapeMismatch(message()) }
}
