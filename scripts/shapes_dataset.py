"""The synthetic captioned data set the embedded "shapes" model learns, and the checker that scores an
image against its caption (run by hand, never by CI).

An image is one flat-coloured shape (circle, square, triangle, star) of a named colour on a background of
another named colour, large or small, on the left, right, top, bottom or in the centre, at 64x64 px:
"a large red circle on the left, blue background". Some (shape, colour, background) combinations are
held out of training (`is_held_out`) so the evaluation asks for pictures the model never saw.

The checker is deterministic geometry, no learned parts: the background is the median colour of the
border, the shape is the largest 4-connected region that differs from it, its colour the median of that
region; the shape class comes from how much of its bounding box it fills and how convex it is, the size
from its bounding box, the position from its centroid. `Tests/LatentflowEndToEndTests/ShapeCaptionChecker.swift`
is its Swift port (checked against this one by the fixture `make_shapes_checker_fixture`).
"""
import math

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64
PALETTE = {
    "red": (220, 30, 30), "orange": (245, 130, 20), "yellow": (245, 220, 30), "green": (30, 170, 50),
    "blue": (30, 70, 220), "purple": (140, 50, 190), "white": (245, 245, 245), "black": (15, 15, 15),
}
COLOURS = list(PALETTE)
SHAPES = ["circle", "square", "triangle", "star"]
SIZES = ["large", "small"]
POSITIONS = ["left", "right", "top", "bottom", "center"]
PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
           "center": "in the center"}
# Shape extent ("radius") in px and how far off-centre a placed shape sits, per size.
RADIUS = {"large": 17.0, "small": 9.0}
OFFSET = {"large": 13.0, "small": 17.0}


def caption(a):
    return "a %s %s %s %s, %s background" % (a["size"], a["colour"], a["shape"], PHRASES[a["position"]], a["background"])


def is_held_out(shape, colour, background):
    """One (colour, background) pair in eight per shape, spread so that every colour and background
    still appears with every shape in training."""
    i, j, s = COLOURS.index(colour), COLOURS.index(background), SHAPES.index(shape)
    return (3 * i + j + 2 * s) % 8 == 0


def all_combinations():
    for shape in SHAPES:
        for colour in COLOURS:
            for background in COLOURS:
                if background == colour:
                    continue
                for size in SIZES:
                    for position in POSITIONS:
                        yield dict(shape=shape, colour=colour, background=background, size=size, position=position)


def train_combinations():
    return [a for a in all_combinations() if not is_held_out(a["shape"], a["colour"], a["background"])]


def held_out_combinations():
    return [a for a in all_combinations() if is_held_out(a["shape"], a["colour"], a["background"])]


def polygon(shape, cx, cy, r):
    if shape == "square":
        h = r * 0.9
        return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
    if shape == "triangle":
        # Upright equilateral triangle with circumradius 1.15 r, centred on its bounding box.
        R = 1.15 * r
        pts = [(cx + R * math.sin(2 * math.pi * k / 3), cy - R * math.cos(2 * math.pi * k / 3)) for k in range(3)]
        shift = (max(p[1] for p in pts) + min(p[1] for p in pts)) / 2 - cy
        return [(x, y - shift) for x, y in pts]
    if shape == "star":
        R, inner = 1.2 * r, 0.45 * 1.2 * r
        pts = [(cx + (R if k % 2 == 0 else inner) * math.sin(math.pi * k / 5),
                cy - (R if k % 2 == 0 else inner) * math.cos(math.pi * k / 5)) for k in range(10)]
        shift = (max(p[1] for p in pts) + min(p[1] for p in pts)) / 2 - cy
        return [(x, y - shift) for x, y in pts]
    raise ValueError(shape)


def render(a, rng):
    """The image for attributes `a` as uint8 HxWx3; `rng` jitters position (+-3 px) and size (+-10%)."""
    scale = 4  # supersampled, then reduced: anti-aliased edges like a real picture's
    r = RADIUS[a["size"]] * (1 + rng.uniform(-0.1, 0.1))
    d = OFFSET[a["size"]]
    dx, dy = {"left": (-d, 0), "right": (d, 0), "top": (0, -d), "bottom": (0, d), "center": (0, 0)}[a["position"]]
    cx, cy = SIZE / 2 + dx + rng.uniform(-3, 3), SIZE / 2 + dy + rng.uniform(-3, 3)
    image = Image.new("RGB", (SIZE * scale, SIZE * scale), PALETTE[a["background"]])
    draw = ImageDraw.Draw(image)
    fill = PALETTE[a["colour"]]
    if a["shape"] == "circle":
        draw.ellipse([(cx - r) * scale, (cy - r) * scale, (cx + r) * scale, (cy + r) * scale], fill=fill)
    else:
        draw.polygon([(x * scale, y * scale) for x, y in polygon(a["shape"], cx, cy, r)], fill=fill)
    return np.asarray(image.resize((SIZE, SIZE), Image.BOX))


def make_dataset(count, seed, combinations=None):
    """`count` (attributes, image) pairs drawn uniformly from `combinations` (default: the training ones)."""
    rng = np.random.default_rng(seed)
    combinations = combinations or train_combinations()
    picks = rng.integers(0, len(combinations), size=count)
    attrs = [combinations[k] for k in picks]
    images = np.stack([render(a, rng) for a in attrs])
    return attrs, images


# --- the checker -----------------------------------------------------------------------------------------

def nearest_colour(rgb):
    return min(COLOURS, key=lambda c: sum((float(x) - y) ** 2 for x, y in zip(rgb, PALETTE[c])))


def largest_region(mask):
    """The largest 4-connected region of a boolean HxW mask (ties: the one found first, row-major)."""
    h, w = mask.shape
    label = np.zeros((h, w), dtype=np.int32)
    best, best_size, current = 0, 0, 0
    for y0 in range(h):
        for x0 in range(w):
            if not mask[y0, x0] or label[y0, x0]:
                continue
            current += 1
            label[y0, x0] = current
            stack, size = [(y0, x0)], 0
            while stack:
                y, x = stack.pop()
                size += 1
                for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not label[ny, nx]:
                        label[ny, nx] = current
                        stack.append((ny, nx))
            if size > best_size:
                best, best_size = current, size
    return label == best if best else np.zeros_like(mask)


def hull_area(points):
    """Area of the convex hull of integer points (Andrew's monotone chain, shoelace formula)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return 0.0

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return abs(sum(hull[k][0] * hull[(k + 1) % len(hull)][1] - hull[(k + 1) % len(hull)][0] * hull[k][1]
                   for k in range(len(hull)))) / 2


def check(image):
    """What an image shows, as attributes (None where nothing shape-like is found)."""
    image = np.asarray(image)[:, :, :3].astype(np.float64)
    h, w, _ = image.shape
    border = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    background_rgb = np.median(border, axis=0)
    distance = np.sqrt(((image - background_rgb) ** 2).sum(axis=2))
    region = largest_region(distance > 60)
    area = int(region.sum())
    result = dict(background=nearest_colour(background_rgb), shape=None, colour=None, size=None, position=None)
    if area < 12:
        return result
    ys, xs = np.nonzero(region)
    result["colour"] = nearest_colour(np.median(image[region], axis=0))
    bw, bh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    fill = area / float(bw * bh)
    corners = [(int(x) + cx, int(y) + cy) for y, x in zip(ys, xs) for cx in (0, 1) for cy in (0, 1)]
    solidity = area / max(hull_area(corners), 1.0)
    if solidity < 0.8:
        result["shape"] = "star"
    elif fill > 0.9:
        result["shape"] = "square"
    elif fill > 0.66:
        result["shape"] = "circle"
    else:
        result["shape"] = "triangle"
    result["size"] = "large" if max(bw, bh) * SIZE / w > 24 else "small"
    # The bounding box's centre, not the centroid: a triangle's centroid sits low in its box.
    dx = (xs.min() + xs.max() + 1) / 2 / w * SIZE - SIZE / 2
    dy = (ys.min() + ys.max() + 1) / 2 / h * SIZE - SIZE / 2
    if max(abs(dx), abs(dy)) < 6:
        result["position"] = "center"
    elif abs(dx) > abs(dy):
        result["position"] = "left" if dx < 0 else "right"
    else:
        result["position"] = "top" if dy < 0 else "bottom"
    return result


ATTRIBUTES = ["shape", "colour", "background", "size", "position"]


def score(image, a):
    """Per-attribute matches of `image` against attributes `a`, and whether all of them match."""
    seen = check(image)
    matches = {k: seen[k] == a[k] for k in ATTRIBUTES}
    matches["all"] = all(matches.values())
    return matches, seen


if __name__ == "__main__":
    # Self-check: the checker must read the generator's own images correctly.
    attrs, images = make_dataset(2000, seed=1, combinations=list(all_combinations()))
    totals = {k: 0 for k in ATTRIBUTES + ["all"]}
    misses = 0
    for a, image in zip(attrs, images):
        m, seen = score(image, a)
        for k in totals:
            totals[k] += m[k]
        if not m["all"]:
            misses += 1
            if misses <= 5:
                print("miss:", caption(a), "->", seen)
    print({k: "%.3f" % (v / len(attrs)) for k, v in totals.items()})
    print(len(train_combinations()), "training combinations,", len(held_out_combinations()), "held out")
