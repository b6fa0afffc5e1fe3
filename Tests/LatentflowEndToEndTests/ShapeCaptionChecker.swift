/// What a picture of the shapes data set shows: the Swift port of `scripts/shapes_dataset.py`'s `check`
/// (the reference; `ShapesModelTests` checks that both read the fixture images alike). Deterministic
/// geometry: the background is the median colour of the border, the shape the largest 4-connected
/// region that differs from it, the class from how much of its bounding box it fills and how convex it is.
struct ShapeCaptionChecker {
    struct Reading: Equatable {
        var shape: String?
        var colour: String?
        var background: String
        var size: String?
        var position: String?
    }

    static let palette: [(name: String, rgb: [Double])] = [
        ("red", [220, 30, 30]), ("orange", [245, 130, 20]), ("yellow", [245, 220, 30]), ("green", [30, 170, 50]),
        ("blue", [30, 70, 220]), ("purple", [140, 50, 190]), ("white", [245, 245, 245]), ("black", [15, 15, 15]),
    ]

    /// The data set's canvas; readings of other sizes are scaled to it.
    static let canvas = 64.0

    static func nearestColour(_ rgb: [Double]) -> String {
        palette.min { a, b in
            zip(rgb, a.rgb).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                < zip(rgb, b.rgb).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        }!.name
    }

    /// numpy's median: the mean of the two middle values for an even count.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// Reads an interleaved 8-bit image (3 or more channels; the first three are RGB).
    static func read(pixels: [UInt8], width: Int, height: Int, channels: Int) -> Reading {
        func rgb(_ x: Int, _ y: Int) -> [Double] {
            (0..<3).map { Double(pixels[(y * width + x) * channels + $0]) }
        }
        var border: [[Double]] = []
        for x in 0..<width { border.append(rgb(x, 0)) }
        for x in 0..<width { border.append(rgb(x, height - 1)) }
        for y in 1..<(height - 1) { border.append(rgb(0, y)) }
        for y in 1..<(height - 1) { border.append(rgb(width - 1, y)) }
        let background = (0..<3).map { c in median(border.map { $0[c] }) }
        var differs = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let d = zip(rgb(x, y), background).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                differs[y * width + x] = d > 60
            }
        }
        var reading = Reading(background: nearestColour(background))
        let region = largestRegion(differs, width: width, height: height)
        guard region.count >= 12 else { return reading }
        reading.colour = nearestColour((0..<3).map { c in median(region.map { rgb($0.x, $0.y)[c] }) })
        let xs = region.map(\.x), ys = region.map(\.y)
        let (minX, maxX, minY, maxY) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
        let (boxWidth, boxHeight) = (maxX - minX + 1, maxY - minY + 1)
        let fill = Double(region.count) / Double(boxWidth * boxHeight)
        var corners: [Point] = []
        for p in region {
            for (dx, dy) in [(0, 0), (0, 1), (1, 0), (1, 1)] { corners.append(Point(x: p.x + dx, y: p.y + dy)) }
        }
        let solidity = Double(region.count) / max(hullArea(corners), 1)
        reading.shape = solidity < 0.8 ? "star" : fill > 0.9 ? "square" : fill > 0.66 ? "circle" : "triangle"
        reading.size = Double(max(boxWidth, boxHeight)) * canvas / Double(width) > 24 ? "large" : "small"
        // The bounding box's centre, not the centroid: a triangle's centroid sits low in its box.
        let dx = Double(minX + maxX + 1) / 2 / Double(width) * canvas - canvas / 2
        let dy = Double(minY + maxY + 1) / 2 / Double(height) * canvas - canvas / 2
        if max(abs(dx), abs(dy)) < 6 {
            reading.position = "center"
        } else if abs(dx) > abs(dy) {
            reading.position = dx < 0 ? "left" : "right"
        } else {
            reading.position = dy < 0 ? "top" : "bottom"
        }
        return reading
    }

    struct Point: Hashable, Comparable {
        var x: Int, y: Int
        static func < (a: Point, b: Point) -> Bool { (a.x, a.y) < (b.x, b.y) }
    }

    /// The largest 4-connected region of the mask (ties: the first found in row-major order).
    static func largestRegion(_ mask: [Bool], width: Int, height: Int) -> [Point] {
        var seen = [Bool](repeating: false, count: mask.count)
        var best: [Point] = []
        for start in 0..<mask.count where mask[start] && !seen[start] {
            seen[start] = true
            var stack = [start], region: [Point] = []
            while let i = stack.popLast() {
                let (x, y) = (i % width, i / width)
                region.append(Point(x: x, y: y))
                for (nx, ny) in [(x, y - 1), (x, y + 1), (x - 1, y), (x + 1, y)]
                where nx >= 0 && nx < width && ny >= 0 && ny < height {
                    let j = ny * width + nx
                    if mask[j] && !seen[j] {
                        seen[j] = true
                        stack.append(j)
                    }
                }
            }
            if region.count > best.count { best = region }
        }
        return best
    }

    /// The area of the convex hull of the points (Andrew's monotone chain, the shoelace formula).
    static func hullArea(_ points: [Point]) -> Double {
        let sorted = Array(Set(points)).sorted()
        guard sorted.count >= 3 else { return 0 }
        func cross(_ o: Point, _ a: Point, _ b: Point) -> Int { (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x) }
        var lower: [Point] = [], upper: [Point] = []
        for p in sorted {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 {
                lower.removeLast()
            }
            lower.append(p)
        }
        for p in sorted.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 {
                upper.removeLast()
            }
            upper.append(p)
        }
        let hull = Array(lower.dropLast() + upper.dropLast())
        var twice = 0
        for k in 0..<hull.count {
            let (a, b) = (hull[k], hull[(k + 1) % hull.count])
            twice += a.x * b.y - b.x * a.y
        }
        return Double(abs(twice)) / 2
    }
}
