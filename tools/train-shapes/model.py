"""Tiny YOLOv8-layout detector / instance segmenter.

Backbone: strided Conv-BN-SiLU + C2f blocks + SPPF (YOLOv8 style, much narrower).
Neck: PAN/FPN over P3/P4/P5 (strides 8/16/32).
Head: anchor-free, decoupled box / class (/ mask-coefficient) branches per level. Boxes are
regressed directly as (left, top, right, bottom) distances from the anchor centre, in stride units
through softplus (no DFL). Class scores are sigmoid outputs; no objectness.
Segmenter: a YOLOv8 "Proto" branch on the P3 neck output gives 32 prototypes at 1/4 input
resolution (80x80 for 320 input), plus 32 raw mask coefficients per anchor.

Exported layout (identical to Ultralytics YOLOv8 ONNX exports):
  output0: [B, 4 + nc (+ 32), A]  rows cx, cy, w, h (input pixels), nc sigmoid scores, (coeffs)
  output1: [B, 32, S/4, S/4]      prototypes (segmenter only)
Anchor order: stride-8 grid (row-major, y outer, x inner), then stride 16, then stride 32.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_, 1)
        self.cv2 = Conv(c_ * 4, c2, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat([x, y1, y2, self.m(y2)], 1))


class Proto(nn.Module):
    """YOLOv8 mask prototype branch: conv, 2x transposed-conv upsample, conv, 1x1 to nm."""

    def __init__(self, c1, c_=32, nm=32):
        super().__init__()
        self.cv1 = Conv(c1, c_, 3)
        self.upsample = nn.ConvTranspose2d(c_, c_, 2, 2, 0, bias=True)
        self.cv2 = Conv(c_, c_, 3)
        self.cv3 = Conv(c_, nm, 1)

    def forward(self, x):
        return self.cv3(self.cv2(self.upsample(self.cv1(x))))


def _branch(c1, ch, cout):
    return nn.Sequential(Conv(c1, ch, 3), Conv(ch, ch, 3), nn.Conv2d(ch, cout, 1))


class TinyYOLO(nn.Module):
    strides = (8, 16, 32)

    def __init__(self, nc=3, seg=False, nm=32, w=(16, 24, 32, 48, 64), box_ch=24, cls_ch=16, coef_ch=24):
        super().__init__()
        self.nc, self.seg, self.nm = nc, seg, nm
        c0, c1, c2, c3, c4 = w
        # backbone
        self.stem = Conv(3, c0, 3, 2)                  # 1/2
        self.down1 = Conv(c0, c1, 3, 2)                # 1/4
        self.c2f1 = C2f(c1, c1, 1)
        self.down2 = Conv(c1, c2, 3, 2)                # 1/8  (P3)
        self.c2f2 = C2f(c2, c2, 1)
        self.down3 = Conv(c2, c3, 3, 2)                # 1/16 (P4)
        self.c2f3 = C2f(c3, c3, 1)
        self.down4 = Conv(c3, c4, 3, 2)                # 1/32 (P5)
        self.c2f4 = C2f(c4, c4, 1)
        self.sppf = SPPF(c4, c4)
        # neck (PAN)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C2f(c4 + c3, c3, 1, shortcut=False)
        self.td3 = C2f(c3 + c2, c2, 1, shortcut=False)
        self.bu3 = Conv(c2, c2, 3, 2)
        self.bu4 = C2f(c2 + c3, c3, 1, shortcut=False)
        self.bu4d = Conv(c3, c3, 3, 2)
        self.bu5 = C2f(c3 + c4, c4, 1, shortcut=False)
        chs = (c2, c3, c4)
        # heads
        self.box = nn.ModuleList(_branch(c, box_ch, 4) for c in chs)
        self.cls = nn.ModuleList(_branch(c, cls_ch, nc) for c in chs)
        if seg:
            self.proto = Proto(c2, 32, nm)
            self.coef = nn.ModuleList(_branch(c, coef_ch, nm) for c in chs)
        self._init_bias()
        self.set_export_size(320)

    def set_export_size(self, imgsz):
        """Bake the anchor grids for a fixed input size into the inference/export graph, so the
        exported outputs have static shapes (except the batch axis) and no Range/Shape ops."""
        self.imgsz = imgsz
        self.grid_hw = []
        for i, s in enumerate(self.strides):
            h = w = imgsz // s
            self.grid_hw.append((h, w))
            self.register_buffer(f"ax{i}", ((torch.arange(w) + 0.5) * s).view(1, 1, 1, w).float(), persistent=False)
            self.register_buffer(f"ay{i}", ((torch.arange(h) + 0.5) * s).view(1, 1, h, 1).float(), persistent=False)

    def _init_bias(self):
        import math
        for s, b in zip(self.strides, self.cls):
            # prior ~ 0.01 (Ultralytics uses log(5 / nc / (640 / s) ** 2))
            b[-1].bias.data[:] = math.log(5 / self.nc / (320 / s) ** 2)
        for b in self.box:
            # softplus(x) * stride ~ 2 strides initially
            b[-1].bias.data[:] = 1.8

    def features(self, x):
        x = self.c2f1(self.down1(self.stem(x)))
        p3 = self.c2f2(self.down2(x))
        p4 = self.c2f3(self.down3(p3))
        p5 = self.sppf(self.c2f4(self.down4(p4)))
        t4 = self.td4(torch.cat([self.up(p5), p4], 1))
        n3 = self.td3(torch.cat([self.up(t4), p3], 1))
        n4 = self.bu4(torch.cat([self.bu3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.bu4d(n4), p5], 1))
        return [n3, n4, n5]

    def forward_raw(self, x):
        """Training outputs: ltrb distances [B,A,4] (input pixels), class logits [B,A,nc],
        anchors [A,2] (input pixels), strides [A,1], coeffs [B,A,nm] / protos [B,nm,h,w] if seg."""
        feats = self.features(x)
        ltrb, logits, coefs, anchors, strides = [], [], [], [], []
        for i, f in enumerate(feats):
            B, _, h, w = f.shape
            s = self.strides[i]
            ltrb.append((F.softplus(self.box[i](f)) * s).flatten(2))
            logits.append(self.cls[i](f).flatten(2))
            if self.seg:
                coefs.append(self.coef[i](f).flatten(2))
            ys = torch.arange(h, dtype=x.dtype, device=x.device)
            xs = torch.arange(w, dtype=x.dtype, device=x.device)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            anchors.append(torch.stack([gx, gy], -1).reshape(-1, 2).add(0.5).mul(s))
            strides.append(torch.full((h * w, 1), float(s), dtype=x.dtype, device=x.device))
        out = {
            "ltrb": torch.cat(ltrb, 2).transpose(1, 2),
            "logits": torch.cat(logits, 2).transpose(1, 2),
            "anchors": torch.cat(anchors, 0),
            "strides": torch.cat(strides, 0),
        }
        if self.seg:
            out["coefs"] = torch.cat(coefs, 2).transpose(1, 2)
            out["protos"] = self.proto(feats[0])
        return out

    def forward(self, x):
        """Export / inference outputs in the Ultralytics YOLOv8 layout."""
        feats = self.features(x)
        boxes, scores, coefs = [], [], []
        for i, f in enumerate(feats):
            h, w = self.grid_hw[i]
            assert f.shape[2] == h and f.shape[3] == w, "input size must match set_export_size()"
            s = float(self.strides[i])
            d = F.softplus(self.box[i](f)) * s                       # [B,4,h,w] l,t,r,b
            ax, ay = getattr(self, f"ax{i}"), getattr(self, f"ay{i}")
            l, t, r, b = d[:, 0:1], d[:, 1:2], d[:, 2:3], d[:, 3:4]
            x1, y1, x2, y2 = ax - l, ay - t, ax + r, ay + b
            xywh = torch.cat([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)
            boxes.append(xywh.reshape(-1, 4, h * w))
            scores.append(torch.sigmoid(self.cls[i](f)).reshape(-1, self.nc, h * w))
            if self.seg:
                coefs.append(self.coef[i](f).reshape(-1, self.nm, h * w))
        parts = [torch.cat(boxes, 2), torch.cat(scores, 2)]
        if self.seg:
            parts.append(torch.cat(coefs, 2))
            return torch.cat(parts, 1), self.proto(feats[0])
        return torch.cat(parts, 1)


def count_params(m):
    return sum(p.numel() for p in m.parameters())
