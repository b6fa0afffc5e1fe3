/// Winograd F(4x4, 3x3) on the points 0, ±1, ±2, ∞:
///
///     Bᵀ = [4  0 −5  0  1  0]     G = [ 1/4     0     0 ]     Aᵀ = [1  1  1  1  1  0]
///          [0 −4 −4  1  1  0]         [−1/6  −1/6  −1/6 ]          [0  1 −1  2 −2  0]
///          [0  4 −4 −1  1  0]         [−1/6   1/6  −1/6 ]          [0  1  1  4  4  0]
///          [0 −2 −1  2  1  0]         [1/24  1/12   1/6 ]          [0  1 −1  8 −8  1]
///          [0  2 −1 −2  1  0]         [1/24 −1/12   1/6 ]
///          [0  4  0 −5  0  1]         [  0     0     1  ]
///
/// 36 multiplications per 4x4 output tile and channel pair: 1/4 of direct convolution, 9/16 of
/// F(2x2, 3x3). The larger constants cost one to two decimal digits: a 256-channel layer's
/// relative error is about 8e-6 against 3e-7 for direct convolution in float32 (NumPy, against
/// float64; `Conv2DTests.testWinogradAccuracyOnAnSDSizedLayer` bounds it on our kernels).
///
/// The tiles of a row overlap by two columns, so the row transforms work on the padded rows
/// split into four phases (column 4q + r at `phase_r[q]`): a tile's six inputs are then
/// `phase_0..3[t]`, `phase_0[t+1]`, `phase_1[t+1]`, and eight tiles are eight-wide loads.
enum WinogradF4x4: WinogradTiling {
    static let tile = 4
    static let bandBytes = 8 << 20

    /// Length of one phase: a row's tiles plus the one-tile overlap and a vector of slack.
    @inline(__always)
    static func phaseLength(tilesX: Int) -> Int { (tilesX + 9 + 7) & ~7 }

    /// Six padded rows and their column combinations, four phases each (the output transform
    /// reuses the first 16 phases).
    static func scratchCount(tilesX: Int) -> Int { 48 * phaseLength(tilesX: tilesX) }

    /// Bᵀ·e for one column (or row) of six inputs.
    @inline(__always)
    static func inputCombinations(_ e0: Vec8, _ e1: Vec8, _ e2: Vec8, _ e3: Vec8, _ e4: Vec8, _ e5: Vec8)
        -> (Vec8, Vec8, Vec8, Vec8, Vec8, Vec8)
    {
        let four = Vec8(repeating: 4), two = Vec8(repeating: 2), five = Vec8(repeating: 5)
        let e42 = e4 - e2, e31 = e3 - e1
        return (
            e4 + four * e0 - five * e2,
            (e3 + e4) - four * (e1 + e2),
            (e4 - e3) + four * (e1 - e2),
            e42 + two * e31,
            e42 - two * e31,
            e5 + four * e1 - five * e3
        )
    }

    /// Aᵀ·e for one column (or row) of six products.
    @inline(__always)
    static func outputCombinations(_ e0: Vec8, _ e1: Vec8, _ e2: Vec8, _ e3: Vec8, _ e4: Vec8, _ e5: Vec8)
        -> (Vec8, Vec8, Vec8, Vec8)
    {
        let sum12 = e1 + e2, difference12 = e1 - e2, sum34 = e3 + e4, difference34 = e3 - e4
        return (
            e0 + sum12 + sum34,
            difference12 + Vec8(repeating: 2) * difference34,
            sum12 + Vec8(repeating: 4) * sum34,
            difference12 + Vec8(repeating: 8) * difference34 + e5
        )
    }

    /// G·e for one column (or row) of three taps.
    @inline(__always)
    static func weightCombinations(_ a: Vec8, _ b: Vec8, _ c: Vec8) -> (Vec8, Vec8, Vec8, Vec8, Vec8, Vec8) {
        let sixth = Vec8(repeating: 1 / 6), quarter = Vec8(repeating: 0.25)
        let ac = a + c
        let outer = Vec8(repeating: 1 / 24) * a + sixth * c, inner = Vec8(repeating: 1 / 12) * b
        return (quarter * a, -sixth * (ac + b), -sixth * (ac - b), outer + inner, outer - inner, c)
    }

    /// Eight input channels at a time; per call, or once per layer where a `WinogradWeightCache`
    /// keeps U (four times the weight's memory).
    static func transformWeights(
        _ weight: UnsafePointer<Float>, cout: Int, cin: Int, into u: UnsafeMutablePointer<Float>
    ) {
        let plane = cout * cin
        parallelFor(cout) { o in
            let row = u + o * cin
            for c0 in stride(from: 0, to: cin, by: 8) {
                let count = min(8, cin - c0)
                // Tap j of the eight channels c0..<c0+8 (zero past the last).
                @inline(__always) func tap(_ j: Int) -> Vec8 {
                    var value = Vec8()
                    for lane in 0..<count { value[lane] = weight[(o * cin + c0 + lane) * 9 + j] }
                    return value
                }
                // G·g: the three columns of g, each into six rows.
                let column0 = weightCombinations(tap(0), tap(3), tap(6))
                let column1 = weightCombinations(tap(1), tap(4), tap(7))
                let column2 = weightCombinations(tap(2), tap(5), tap(8))
                // Then each row times Gᵀ.
                @inline(__always) func emit(_ i: Int, _ x: Vec8, _ y: Vec8, _ z: Vec8) {
                    let r = weightCombinations(x, y, z)
                    let destination = row + 6 * i * plane + c0
                    storeLanes(r.0, destination, count)
                    storeLanes(r.1, destination + plane, count)
                    storeLanes(r.2, destination + 2 * plane, count)
                    storeLanes(r.3, destination + 3 * plane, count)
                    storeLanes(r.4, destination + 4 * plane, count)
                    storeLanes(r.5, destination + 5 * plane, count)
                }
                emit(0, column0.0, column1.0, column2.0)
                emit(1, column0.1, column1.1, column2.1)
                emit(2, column0.2, column1.2, column2.2)
                emit(3, column0.3, column1.3, column2.3)
                emit(4, column0.4, column1.4, column2.4)
                emit(5, column0.5, column1.5, column2.5)
            }
        }
    }

    /// The first `count` lanes of `value`: a whole vector, or the tail of a row.
    @inline(__always)
    static func storeLanes(_ value: Vec8, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 8 {
            store8(value, destination)
        } else {
            for lane in 0..<count { destination[lane] = value[lane] }
        }
    }

    @inline(__always)
    static func transformInputRow(
        _ channel: UnsafePointer<Float>, h: Int, w: Int, tileRow: Int, tilesX: Int,
        scratch: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let length = phaseLength(tilesX: tilesX), rowLength = 4 * length
        let phases = tilesX + 1
        // Six padded rows (padded column p is input column p − 1), split into phases.
        for i in 0..<6 {
            let d = scratch + i * rowLength
            let y = 4 * tileRow - 1 + i
            guard y >= 0 && y < h else {
                for r in 0..<4 { (d + r * length).update(repeating: 0, count: phases) }
                continue
            }
            let source = channel + y * w
            for r in 0..<4 {
                let phase = d + r * length
                // Column 4q + r − 1 lies inside the row for q in first..<end.
                let first = r == 0 ? 1 : 0, end = min(phases, (w - r) / 4 + 1)
                if first > 0 { phase[0] = 0 }
                for q in first..<end { phase[q] = source[4 * q + r - 1] }
                if end < phases { (phase + end).update(repeating: 0, count: phases - end) }
            }
        }
        // Column combinations: Bᵀ over the six rows, all phases at once.
        let s = scratch + 6 * rowLength
        for p in Swift.stride(from: 0, to: rowLength, by: 8) {
            let d = scratch + p
            let b = inputCombinations(
                load8(d), load8(d + rowLength), load8(d + 2 * rowLength),
                load8(d + 3 * rowLength), load8(d + 4 * rowLength), load8(d + 5 * rowLength))
            let out = s + p
            store8(b.0, out)
            store8(b.1, out + rowLength)
            store8(b.2, out + 2 * rowLength)
            store8(b.3, out + 3 * rowLength)
            store8(b.4, out + 4 * rowLength)
            store8(b.5, out + 5 * rowLength)
        }
        // Row combinations: Bᵀ over each tile's six columns, eight tiles at a time.
        for i in 0..<6 {
            let p0 = s + i * rowLength, p1 = p0 + length, p2 = p1 + length, p3 = p2 + length
            let planes = v + 6 * i * stride
            for t in Swift.stride(from: 0, to: tilesX, by: 8) {
                let b = inputCombinations(
                    load8(p0 + t), load8(p1 + t), load8(p2 + t), load8(p3 + t),
                    load8(p0 + t + 1), load8(p1 + t + 1))
                let count = min(8, tilesX - t), destination = planes + t
                storeLanes(b.0, destination, count)
                storeLanes(b.1, destination + stride, count)
                storeLanes(b.2, destination + 2 * stride, count)
                storeLanes(b.3, destination + 3 * stride, count)
                storeLanes(b.4, destination + 4 * stride, count)
                storeLanes(b.5, destination + 5 * stride, count)
            }
        }
    }

    @inline(__always)
    static func transformOutputRow(
        _ m: UnsafePointer<Float>, stride: Int, tilesX: Int, bias: Float,
        scratch: UnsafeMutablePointer<Float>,
        into channel: UnsafeMutablePointer<Float>, h: Int, w: Int, tileRow: Int
    ) {
        let length = phaseLength(tilesX: tilesX)
        let biasVector = Vec8(repeating: bias)
        // Output (a, b) of every tile into phase 4a + b of the scratch.
        for t in Swift.stride(from: 0, to: tilesX, by: 8) {
            @inline(__always) func product(_ k: Int) -> Vec8 { load8(m + k * stride + t) }
            // Aᵀ over the six rows of each column j (products 6i + j).
            @inline(__always) func column(_ j: Int) -> (Vec8, Vec8, Vec8, Vec8) {
                outputCombinations(
                    product(j), product(6 + j), product(12 + j), product(18 + j), product(24 + j), product(30 + j))
            }
            let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
            // Then Aᵀ over the six columns of each output row a.
            @inline(__always) func emit(_ a: Int, _ r: (Vec8, Vec8, Vec8, Vec8)) {
                let out = scratch + 4 * a * length + t
                store8(r.0 + biasVector, out)
                store8(r.1 + biasVector, out + length)
                store8(r.2 + biasVector, out + 2 * length)
                store8(r.3 + biasVector, out + 3 * length)
            }
            emit(0, outputCombinations(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
            emit(1, outputCombinations(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
            emit(2, outputCombinations(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
            emit(3, outputCombinations(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
        }
        // Interleave the phases back into image rows, dropping the overhang.
        for a in 0..<4 {
            let y = 4 * tileRow + a
            guard y < h else { break }
            let row = channel + y * w
            let (q0, q1, q2, q3) = (
                scratch + 4 * a * length, scratch + (4 * a + 1) * length,
                scratch + (4 * a + 2) * length, scratch + (4 * a + 3) * length
            )
            let whole = w / 4
            for q in 0..<whole {
                row[4 * q] = q0[q]
                row[4 * q + 1] = q1[q]
                row[4 * q + 2] = q2[q]
                row[4 * q + 3] = q3[q]
            }
            for x in (4 * whole)..<w { row[x] = scratch[(4 * a + x % 4) * length + whole] }
        }
    }
}
