"""Synthetic "shapes" data: filled circles, squares and triangles on varied backgrounds.

Everything is deterministic given a seed (numpy Generator + PIL drawing, no global state).

    sample = make_sample(np.random.default_rng(seed), size=(W, H))
    sample["image"]   -> PIL RGB image of size W x H
    sample["objects"] -> list of {"class_id", "class", "box": [x1, y1, x2, y2] (pixels, tight,
                          exclusive right/bottom edge), "mask": HxW uint8 (255 inside / 0 outside)}

Masks are the *visible* part of each instance (later shapes are drawn on top and occlude earlier
ones); boxes are the tight boxes of those visible masks.
"""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ["circle", "square", "triangle"]
# Original image sizes (W, H): the consumer has to map boxes back through a stretch-resize.
SIZES = [(320, 320), (480, 360), (360, 480), (640, 480)]


def _rand_color(rng):
    return tuple(int(v) for v in rng.integers(0, 256, size=3))


def _color_dist(a, b):
    return math.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(a, b)))


def _background(rng, W, H, noisy):
    """Flat colour, linear gradient, or a few flat colour regions (optionally with mild noise)."""
    kind = rng.choice(["flat", "gradient", "regions"], p=[0.4, 0.35, 0.25])
    base = np.array(_rand_color(rng), dtype=np.float32)
    colors = [tuple(int(v) for v in base)]
    if kind == "flat":
        img = np.broadcast_to(base, (H, W, 3)).copy()
    elif kind == "gradient":
        other = base + rng.uniform(-70, 70, size=3)
        other = np.clip(other, 0, 255)
        colors.append(tuple(int(v) for v in other))
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        t = (xx * math.cos(ang) + yy * math.sin(ang))
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
        img = base[None, None, :] * (1 - t[..., None]) + other[None, None, :] * t[..., None]
    else:
        pil = Image.new("RGB", (W, H), tuple(int(v) for v in base))
        d = ImageDraw.Draw(pil)
        for _ in range(int(rng.integers(1, 4))):
            c = _rand_color(rng)
            colors.append(c)
            if rng.random() < 0.5:  # half-plane split along a random line
                x0, x1 = rng.uniform(-0.2, 1.2, size=2) * W
                pts = [(x0, -1), (x1, H + 1), (W + 1, H + 1), (W + 1, -1)]
                if rng.random() < 0.5:
                    pts = [(x0, -1), (x1, H + 1), (-1, H + 1), (-1, -1)]
                d.polygon(pts, fill=c)
            else:  # large axis-aligned band
                if rng.random() < 0.5:
                    y0 = rng.uniform(0, H); h = rng.uniform(0.15, 0.5) * H
                    d.rectangle([-1, y0, W + 1, y0 + h], fill=c)
                else:
                    x0 = rng.uniform(0, W); w = rng.uniform(0.15, 0.5) * W
                    d.rectangle([x0, -1, x0 + w, H + 1], fill=c)
        img = np.asarray(pil, dtype=np.float32)
    if noisy:
        img = img + rng.normal(0, rng.uniform(0, 8), size=img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), colors


def _shape_polygon(rng, cls, cx, cy, s):
    """Return ('ellipse', bbox) or ('polygon', points) for a shape of nominal size s (pixels)."""
    if cls == 0:
        r = s / 2
        return "ellipse", [cx - r, cy - r, cx + r, cy + r]
    if cls == 1:
        half = s / 2
        ang = 0.0 if rng.random() < 0.7 else rng.uniform(0, math.pi / 2)
        # shrink rotated squares so their bounding box stays ~s
        half = half / (abs(math.cos(ang)) + abs(math.sin(ang)))
        pts = []
        for k in range(4):
            a = ang + math.pi / 4 + k * math.pi / 2
            pts.append((cx + half * math.sqrt(2) * math.cos(a), cy + half * math.sqrt(2) * math.sin(a)))
        return "polygon", pts
    # triangle: jittered equilateral, random rotation, circumradius ~ s/2 * 1.1
    rad = s / 2 * 1.1
    ang = rng.uniform(0, 2 * math.pi)
    pts = []
    for k in range(3):
        a = ang + k * 2 * math.pi / 3 + rng.uniform(-0.25, 0.25)
        rr = rad * rng.uniform(0.85, 1.1)
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return "polygon", pts


def _box_iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / max(ua, 1e-9)


def make_sample(rng, size=None, noisy=False, max_objects=4, blur=False):
    if size is None:
        size = SIZES[int(rng.integers(0, len(SIZES)))]
    W, H = size
    bg, bg_colors = _background(rng, W, H, noisy)
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    short = min(W, H)
    n = int(rng.integers(1, max_objects + 1))
    placed = []  # (cls, nominal box, full mask)
    for _ in range(n):
        for _try in range(30):
            cls = int(rng.integers(0, 3))
            # size as a fraction of the short side: mostly 20-45 %, some small ones (8-20 %)
            frac = rng.uniform(0.2, 0.45) if rng.random() < 0.7 else rng.uniform(0.08, 0.2)
            s = frac * short
            m = s * 0.6
            cx = rng.uniform(m, W - m)
            cy = rng.uniform(m, H - m)
            nb = [cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2]
            if any(_box_iou(nb, p[1]) > 0.08 for p in placed):
                continue
            color = _rand_color(rng)
            if min(_color_dist(color, c) for c in bg_colors) < 90:
                continue
            kind, geo = _shape_polygon(rng, cls, cx, cy, s)
            mimg = Image.new("L", (W, H), 0)
            md = ImageDraw.Draw(mimg)
            if kind == "ellipse":
                draw.ellipse(geo, fill=color)
                md.ellipse(geo, fill=255)
            else:
                draw.polygon(geo, fill=color)
                md.polygon(geo, fill=255)
            mask = np.asarray(mimg) > 127
            # occlude earlier instances
            for p in placed:
                p[2][mask] = False
            placed.append([cls, nb, mask.copy()])
            break
    if blur and rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.2))))
    objects = []
    for cls, _nb, mask in placed:
        ys, xs = np.nonzero(mask)
        if len(xs) < 30:  # almost fully occluded: drop it (it is barely visible)
            continue
        box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
        objects.append({"class_id": cls, "class": CLASSES[cls], "box": box,
                        "mask": (mask.astype(np.uint8) * 255)})
    return {"image": img, "width": W, "height": H, "objects": objects}


def to_input(img, imgsz=320):
    """PIL image -> float32 CHW in [0,1], stretched (plain resize, no letterbox) to imgsz x imgsz."""
    im = img.resize((imgsz, imgsz), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0


def training_batch(rng, batch, imgsz=320, proto=80, with_masks=False):
    """Generate a training batch in input space.

    Returns images [B,3,S,S] float32, targets list of (cls int64[n], boxes float32[n,4] xyxy in
    input pixels) and, if with_masks, masks list of float32[n, proto, proto].
    """
    ims, tg, ms = [], [], []
    for _ in range(batch):
        smp = make_sample(rng, noisy=rng.random() < 0.3, blur=True)
        W, H = smp["width"], smp["height"]
        sx, sy = imgsz / W, imgsz / H
        # random horizontal flip (keeps classes)
        flip = rng.random() < 0.5
        img = smp["image"]
        if flip:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        ims.append(to_input(img, imgsz))
        cls = np.array([o["class_id"] for o in smp["objects"]], dtype=np.int64)
        boxes = np.array([o["box"] for o in smp["objects"]], dtype=np.float32).reshape(-1, 4)
        if flip:
            boxes = np.stack([W - boxes[:, 2], boxes[:, 1], W - boxes[:, 0], boxes[:, 3]], 1)
        boxes = boxes * np.array([sx, sy, sx, sy], dtype=np.float32)
        tg.append((cls, boxes))
        if with_masks:
            mm = []
            for o in smp["objects"]:
                mi = Image.fromarray(o["mask"])
                if flip:
                    mi = mi.transpose(Image.FLIP_LEFT_RIGHT)
                mi = mi.resize((proto, proto), Image.BILINEAR)
                mm.append(np.asarray(mi, dtype=np.float32) / 255.0)
            ms.append(np.stack(mm) if mm else np.zeros((0, proto, proto), np.float32))
    return np.stack(ims), tg, ms


def make_eval_set(out_dir, n=48, seed=20240601):
    """Write the fixed evaluation set: n PNG images (sizes cycle through SIZES), per-instance mask
    PNGs under masks/, and labels.json. Clean backgrounds (no noise/blur) keep the folder small."""
    import json
    import os
    os.makedirs(os.path.join(out_dir, "masks"), exist_ok=True)
    labels = []
    for i in range(n):
        size = SIZES[i % len(SIZES)]
        k = 0
        while True:  # regenerate in the (rare) case that nothing could be placed
            smp = make_sample(np.random.default_rng([seed, i, k]), size=size, noisy=False)
            if smp["objects"]:
                break
            k += 1
        fn = f"{i:03d}.png"
        smp["image"].save(os.path.join(out_dir, fn), optimize=True)
        objs = []
        for j, o in enumerate(smp["objects"]):
            mfn = f"{i:03d}_{j}.png"
            Image.fromarray(o["mask"]).save(os.path.join(out_dir, "masks", mfn), optimize=True)
            objs.append({"class_id": o["class_id"], "class": o["class"], "box": o["box"],
                         "mask": "masks/" + mfn})
        labels.append({"file": fn, "width": smp["width"], "height": smp["height"], "objects": objs})
    with open(os.path.join(out_dir, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    return labels


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="write the fixed shapes evaluation set")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args()
    labels = make_eval_set(a.out, a.n, a.seed)
    print(f"wrote {len(labels)} images, {sum(len(l['objects']) for l in labels)} objects to {a.out}")
