#!/usr/bin/env python3
"""Draws the app icon (icons/*.png, 8-bit RGBA as Tauri requires) with no dependency but the
standard library: shapes are signed-distance functions, edges are anti-aliased analytically.
The glyph: a calm teal tile, a session "clock" ring with a gap, a check mark inside.
Run from anywhere: python3 icons/make-icons.py"""
import math, os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, size, rgba_rows):
    raw = b"".join(b"\x00" + bytes(row) for row in rgba_rows)
    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit, colour type 6 = RGBA
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def sd_round_rect(x, y, cx, cy, half, r):
    qx, qy = abs(x - cx) - (half - r), abs(y - cy) - (half - r)
    return math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - r


def sd_segment(x, y, ax, ay, bx, by, r):
    px, py, vx, vy = x - ax, y - ay, bx - ax, by - ay
    h = max(0.0, min(1.0, (px * vx + py * vy) / (vx * vx + vy * vy)))
    return math.hypot(px - vx * h, py - vy * h) - r


def sd_arc(x, y, cx, cy, radius, width, gap_center, gap_half):
    """A ring with a gap (angles in radians, y down), round caps at the gap's ends."""
    ang = math.atan2(y - cy, x - cx)
    d_ang = (ang - gap_center + math.pi) % (2 * math.pi) - math.pi
    if abs(d_ang) > gap_half:
        return abs(math.hypot(x - cx, y - cy) - radius) - width / 2
    caps = [(cx + radius * math.cos(gap_center + s * gap_half), cy + radius * math.sin(gap_center + s * gap_half)) for s in (-1, 1)]
    return min(math.hypot(x - px, y - py) for px, py in caps) - width / 2


def cover(d, px):  # signed distance (in glyph units) -> pixel coverage
    return max(0.0, min(1.0, 0.5 - d / px))


def draw(size):
    unit = 512 / size  # glyph units per pixel
    top, bottom = (0x2F, 0x8F, 0x9D), (0x1F, 0x5F, 0x7A)
    rows = []
    for j in range(size):
        row = []
        for i in range(size):
            x, y = (i + 0.5) * unit, (j + 0.5) * unit
            t = (x + y) / 1024
            bg = [top[k] * (1 - t) + bottom[k] * t for k in range(3)]
            a_tile = cover(sd_round_rect(x, y, 256, 256, 232, 104), unit)
            ring = sd_arc(x, y, 256, 256, 150, 34, -math.pi / 4, 0.42)
            check = min(sd_segment(x, y, 188, 262, 236, 310, 19), sd_segment(x, y, 236, 310, 330, 210, 19))
            a_white = cover(min(ring, check), unit)
            rgb = [bg[k] * (1 - a_white) + 255 * a_white for k in range(3)]
            row += [round(c) for c in rgb] + [round(255 * a_tile)]
        rows.append(row)
    return rows


if __name__ == "__main__":
    for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        png(os.path.join(HERE, name), size, draw(size))
        print("wrote", name)
    # the UI's own copy (the window's header and favicon): frontendDist cannot reach icons/
    png(os.path.join(HERE, "..", "ui", "icon.png"), 128, draw(128))
    print("wrote ../ui/icon.png")
