import LatentflowGraph
import LatentflowTensor

/// Reduces each image to a palette of at most `colors` colours, with optional dithering.
///
/// Matches: ComfyUI `comfy_extras/nodes_post_processing.py` `Quantize.execute` on Pillow 13:
/// the 8-bit image (`(x·255).to(uint8)`, truncated), a median-cut palette
/// (`im.quantize(colors)`), then `im.quantize(palette=…)` mapping every pixel through Pillow's
/// palette cache, with Floyd–Steinberg error diffusion or, for "bayer-N", ComfyUI's ordered
/// threshold matrix added first. See `PillowPalette`.
public struct ImageQuantize: Node {
    static let dithers = ["none", "floyd-steinberg", "bayer-2", "bayer-4", "bayer-8", "bayer-16"]
    static let image = Input<ImageBatch>("image")
    static let colors = Input.int("colors", default: 256, min: 1, max: 256, step: 1)
    static let dither = Input.combo("dither", options: dithers)

    public static let schema = NodeSchema(
        "ImageQuantize", category: "image/postprocessing", inputs: [image, colors, dither],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], colors = try inputs[Self.colors], dither = try inputs[Self.dither]
        guard Self.dithers.contains(dither) else {
            throw NodeError("ImageQuantize: input 'dither' is '\(dither)'; expected one of \(Self.dithers)")
        }
        guard (1...256).contains(colors) else {
            throw NodeError("ImageQuantize: input 'colors' must be 1...256, got \(colors)")
        }
        let (w, h) = (image.width, image.height)
        var out = [Float](repeating: 0, count: image.count * h * w * 3)
        for index in 0..<image.count {
            try context.checkCancellation()
            let rgb = ImageQuantization.rgb8(image, index: index)
            let palette = PillowPalette.medianCut(rgb, colors: colors)
            let mapped: [Int]
            if dither == "floyd-steinberg" {
                mapped = palette.floydSteinberg(rgb, width: w, height: h)
            } else if dither.hasPrefix("bayer"), let order = Int(dither.dropFirst("bayer-".count)) {
                mapped = palette.closest(
                    PillowPalette.bayer(rgb, width: w, height: h, order: order, colors: palette.count))
            } else {
                mapped = palette.closest(rgb)
            }
            let base = index * h * w * 3
            for (pixel, entry) in mapped.enumerated() {
                for channel in 0..<3 { out[base + pixel * 3 + channel] = Float(palette.colors[entry][channel]) / 255 }
            }
        }
        return NodeOutputs(ImageBatch(try Tensor(shape: [image.count, h, w, 3], scalars: out)))
    }
}

/// Pillow's median-cut palette and its palette mapping, on 8-bit RGB.
///
/// Matches: Pillow `libImaging/Quant.c` `quantize` (pixel histogram with the colour resolution
/// halved until at most 65536 colours remain, median cut by a max-heap on pixel count with
/// boxes of one colour never split, the axis by luminance-weighted range 77/150/29, palette
/// entries the rounded means of their boxes in tree order), `Palette.c` `palette_cache_update`
/// (each colour maps as the corner of its 4×4×4 cache cell: the nearest entry, the first on
/// ties) and `Convert.c` `topalette` (Floyd–Steinberg with its integer error terms, left to
/// right on every row, carrying the last row's quirky tail values).
struct PillowPalette {
    var colors: [[Int]]
    var count: Int { colors.count }

    static func medianCut(_ rgb: [UInt8], colors wanted: Int) -> PillowPalette {
        let pixels = rgb.count / 3
        func key(_ i: Int, _ scale: Int) -> Int {
            (Int(rgb[i * 3]) >> scale) << 16 | (Int(rgb[i * 3 + 1]) >> scale) << 8 | Int(rgb[i * 3 + 2]) >> scale
        }
        var scale = 0
        var histogram: [Int: Int] = [:]
        while true {
            histogram = [:]
            for i in 0..<pixels { histogram[key(i, scale), default: 0] += 1 }
            if histogram.count <= 65536 { break }
            scale += 1
        }
        // Each distinct (scaled) colour once, with its pixel count.
        let entries = histogram.map { (value: [$0.key >> 16, ($0.key >> 8) & 0xFF, $0.key & 0xFF], count: $0.value) }
        final class Box {
            var members: [Int]
            let pixelCount: Int
            var left: Box?, right: Box?
            init(_ members: [Int], _ pixelCount: Int) { (self.members, self.pixelCount) = (members, pixelCount) }
        }
        func range(_ box: Box, _ axis: Int) -> (high: Int, low: Int) {
            var (high, low) = (Int.min, Int.max)
            for m in box.members { (high, low) = (max(high, entries[m].value[axis]), min(low, entries[m].value[axis])) }
            return (high, low)
        }
        func volume(_ box: Box) -> Int {
            guard !box.members.isEmpty else { return 0 }
            return (0..<3).reduce(1) {
                let r = range(box, $1)
                return $0 * (r.high - r.low + 1)
            }
        }
        func split(_ box: Box) {
            let weights = [77, 150, 29]
            var axis = 0, best = Int.min
            for i in 0..<3 {
                let r = range(box, i), f = (r.high - r.low) * weights[i]
                if best < f { (best, axis) = (f, i) }
            }
            // Descending along the axis; the split keeps every colour of the median value left.
            let sorted = box.members.sorted { entries[$0].value[axis] > entries[$1].value[axis] }
            var running = 0, cut = sorted.count
            for (position, m) in sorted.enumerated() {
                running += entries[m].count
                if running * 2 > box.pixelCount {
                    let median = entries[m].value[axis]
                    cut = sorted[(position + 1)...].firstIndex { entries[$0].value[axis] != median } ?? sorted.count
                    break
                }
            }
            if cut == sorted.count, let last = sorted.last {
                // Nothing right of the median: the lowest value goes right.
                let lowest = entries[last].value[axis]
                cut = (sorted.lastIndex { entries[$0].value[axis] != lowest } ?? -1) + 1
            }
            let leftSet = Set(sorted[..<cut])
            let leftMembers = box.members.filter { leftSet.contains($0) }
            let rightMembers = box.members.filter { !leftSet.contains($0) }
            box.left = Box(leftMembers, leftMembers.reduce(0) { $0 + entries[$1].count })
            box.right = Box(rightMembers, rightMembers.reduce(0) { $0 + entries[$1].count })
        }
        // Pillow's binary max-heap on pixel count (1-based), for its order among equal counts.
        var heap: [Box?] = [nil]
        func add(_ box: Box) {
            heap.append(box)
            var k = heap.count - 1
            while k != 1, box.pixelCount - heap[k / 2]!.pixelCount > 0 {
                heap[k] = heap[k / 2]
                k /= 2
            }
            heap[k] = box
        }
        func remove() -> Box? {
            guard heap.count > 1 else { return nil }
            let top = heap[1]!, last = heap.removeLast()!
            let count = heap.count - 1
            guard count > 0 else { return top }
            var k = 1
            while k * 2 <= count {
                var l = k * 2
                if l < count, heap[l]!.pixelCount - heap[l + 1]!.pixelCount < 0 { l += 1 }
                if last.pixelCount - heap[l]!.pixelCount > 0 { break }
                heap[k] = heap[l]
                k = l
            }
            heap[k] = last
            return top
        }
        let root = Box(Array(entries.indices), pixels)
        add(root)
        var remaining = wanted
        splitting: while true {
            remaining -= 1
            if remaining == 0 { break }
            var box: Box
            repeat {
                guard let next = remove() else { break splitting }
                box = next
            } while volume(box) == 1
            split(box)
            add(box.left!)
            add(box.right!)
        }
        // Leaves in tree order (left first) are the palette; each colour's pixels average into it.
        var boxOf: [Int: Int] = [:]
        var leaves = 0
        func annotate(_ box: Box) {
            if let left = box.left, let right = box.right {
                annotate(left)
                annotate(right)
                return
            }
            for m in box.members {
                let v = entries[m].value
                boxOf[v[0] << 16 | v[1] << 8 | v[2]] = leaves
            }
            if !box.members.isEmpty { leaves += 1 }
        }
        annotate(root)
        var sums = [[Int]](repeating: [0, 0, 0], count: leaves), counts = [Int](repeating: 0, count: leaves)
        for i in 0..<pixels {
            guard let entry = boxOf[key(i, scale)] else { continue }
            for c in 0..<3 { sums[entry][c] += Int(rgb[i * 3 + c]) }
            counts[entry] += 1
        }
        return PillowPalette(
            colors: (0..<leaves).map { e in
                (0..<3).map { c in Int(0.5 + Double(sums[e][c]) / Double(max(counts[e], 1))) }
            })
    }

    /// The entry a colour maps to: the nearest to the corner of its 4×4×4 cache cell.
    func entry(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let (r0, g0, b0) = (r & ~3, g & ~3, b & ~3)
        var best = 0, bestDistance = Int.max
        for (i, c) in colors.enumerated() {
            let d = (r0 - c[0]) * (r0 - c[0]) + (g0 - c[1]) * (g0 - c[1]) + (b0 - c[2]) * (b0 - c[2])
            if d < bestDistance { (best, bestDistance) = (i, d) }
        }
        return best
    }

    func closest(_ rgb: [UInt8]) -> [Int] {
        (0..<(rgb.count / 3)).map { entry(Int(rgb[$0 * 3]), Int(rgb[$0 * 3 + 1]), Int(rgb[$0 * 3 + 2])) }
    }

    /// `topalette`'s Floyd–Steinberg: errors in sixteenths, integer division toward zero.
    func floydSteinberg(_ rgb: [UInt8], width: Int, height: Int) -> [Int] {
        var errors = [Int](repeating: 0, count: (width + 1) * 3)
        var out = [Int](repeating: 0, count: width * height)
        for y in 0..<height {
            var value = [0, 0, 0], e0 = [0, 0, 0], e1 = [0, 0, 0], e2 = [0, 0, 0]
            var e = 0
            for x in 0..<width {
                let pixel = (y * width + x) * 3
                for c in 0..<3 {
                    value[c] = min(max(Int(rgb[pixel + c]) + (value[c] + errors[e + 3 + c]) / 16, 0), 255)
                }
                let index = entry(value[0], value[1], value[2])
                out[y * width + x] = index
                for c in 0..<3 {
                    var v = value[c] - colors[index][c]
                    e2[c] = v
                    let d2 = v + v
                    v += d2
                    errors[e + c] = v + e0[c]
                    v += d2
                    e0[c] = v + e1[c]
                    e1[c] = e2[c]
                    v += d2
                    value[c] = v
                }
                e += 3
            }
            // Pillow stores the blue channel's three carries here, for all three channels.
            (errors[e], errors[e + 1], errors[e + 2]) = (e0[2], e1[2], e2[2])
        }
        return out
    }

    /// ComfyUI's `Quantize.bayer` threshold: `spread · M_n + 0.5` (spread `2·256 / colors`) added
    /// to each 8-bit value in float32 (the matrix is float64; torch adds in float64 and stores
    /// float32), clamped to 0…255 and truncated.
    static func bayer(_ rgb: [UInt8], width: Int, height: Int, order: Int, colors: Int) -> [UInt8] {
        func matrix(_ n: Int) -> [[Double]] {
            guard n > 0 else { return [[0]] }
            let q = Double(1 << (2 * n)), m = matrix(n - 1).map { $0.map { $0 * q } }
            let size = m.count
            var out = [[Double]](repeating: [Double](repeating: 0, count: 2 * size), count: 2 * size)
            for y in 0..<size {
                for x in 0..<size {
                    out[y][x] = (m[y][x] - 1.5) / q
                    out[y][x + size] = (m[y][x] + 0.5) / q
                    out[y + size][x] = (m[y][x] + 1.5) / q
                    out[y + size][x + size] = (m[y][x] - 0.5) / q
                }
            }
            return out
        }
        var levels = 0
        while 1 << (levels + 1) <= order { levels += 1 }
        let spread = 2.0 * 256 / Double(colors)
        let m = matrix(levels).map { $0.map { spread * $0 + 0.5 } }
        let n = m.count
        var out = rgb
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let i = (y * width + x) * 3 + c
                    let sum = Float(Double(Float(rgb[i])) + m[y % n][x % n])
                    out[i] = UInt8(min(max(sum, 0), 255))
                }
            }
        }
        return out
    }
}
