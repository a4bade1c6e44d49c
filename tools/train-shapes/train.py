"""Train the tiny shapes detector and segmenter on synthetic data and export both to ONNX.

    /usr/bin/python3 tools/train-shapes/train.py            # both models, default recipe
    /usr/bin/python3 tools/train-shapes/train.py --task detect --epochs 10 --seed 0

Recipe: images generated on the fly (one DataLoader worker), batch 16 at 320x320 (stretched),
AdamW + warmup + cosine decay, EMA of the weights, Task-Aligned assigner (YOLOv8 TAL: anchor centre
inside the GT box, top-10 by score^0.5 * IoU^6), BCE class loss against IoU-aware soft targets,
GIoU + L1 box losses, and for the segmenter BCE of sigmoid(coeffs . protos) against the GT mask at
80x80, cropped to the GT box (Ultralytics YOLOv8-seg convention).
The segmenter is initialised from the trained detector's weights (backbone, neck, box and class
heads); its proto branch and coefficient heads start from scratch.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataset import CLASSES, training_batch  # noqa: E402
from model import TinyYOLO, count_params  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
IMGSZ = 320


# ----------------------------------------------------------------------------------- data
class SyntheticBatches(torch.utils.data.IterableDataset):
    def __init__(self, seed, iters, batch, with_masks):
        self.seed, self.iters, self.batch, self.with_masks = seed, iters, batch, with_masks

    def __iter__(self):
        torch.set_num_threads(1)
        for it in range(self.iters):
            rng = np.random.default_rng([self.seed, it])
            x, tg, ms = training_batch(rng, self.batch, IMGSZ, 80, self.with_masks)
            # torch tensors travel to the main process through shared memory (no pickling copy)
            yield torch.from_numpy(x), tg, [torch.from_numpy(m) for m in ms]


def collate(b):
    return b[0]


# ----------------------------------------------------------------------------------- boxes
def box_iou_pairwise(a, b, eps=1e-7):
    """a [..., 4], b [..., 4] (xyxy), elementwise -> iou, giou"""
    ix1 = torch.max(a[..., 0], b[..., 0]); iy1 = torch.max(a[..., 1], b[..., 1])
    ix2 = torch.min(a[..., 2], b[..., 2]); iy2 = torch.min(a[..., 3], b[..., 3])
    inter = (ix2 - ix1).clamp(0) * (iy2 - iy1).clamp(0)
    aa = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    ab = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = aa + ab - inter + eps
    iou = inter / union
    cx1 = torch.min(a[..., 0], b[..., 0]); cy1 = torch.min(a[..., 1], b[..., 1])
    cx2 = torch.max(a[..., 2], b[..., 2]); cy2 = torch.max(a[..., 3], b[..., 3])
    carea = (cx2 - cx1) * (cy2 - cy1) + eps
    return iou, iou - (carea - union) / carea


@torch.no_grad()
def tal_assign(scores, pboxes, anchors, gt_cls, gt_boxes, gt_valid, topk=10, alpha=0.5, beta=6.0):
    """YOLOv8 Task-Aligned assigner.

    scores [B,A,C] (sigmoid), pboxes [B,A,4] xyxy, anchors [A,2], gt_cls [B,M], gt_boxes [B,M,4],
    gt_valid [B,M] bool. Returns fg [B,A] bool, tgt_idx [B,A] long (index into M),
    tgt_scores [B,A,C] (IoU-aware soft targets).
    """
    B, A, C = scores.shape
    M = gt_boxes.shape[1]
    if M == 0:
        return (torch.zeros(B, A, dtype=torch.bool), torch.zeros(B, A, dtype=torch.long),
                torch.zeros_like(scores))
    ax, ay = anchors[:, 0], anchors[:, 1]
    g = gt_boxes[:, :, None, :]  # B,M,1,4
    eps = 1e-9
    in_gt = ((ax[None, None] - g[..., 0] > eps) & (ay[None, None] - g[..., 1] > eps) &
             (g[..., 2] - ax[None, None] > eps) & (g[..., 3] - ay[None, None] > eps))  # B,M,A
    in_gt &= gt_valid[:, :, None]
    iou, _ = box_iou_pairwise(gt_boxes[:, :, None, :].expand(B, M, A, 4),
                              pboxes[:, None, :, :].expand(B, M, A, 4))
    iou = iou.clamp(0)
    cls_idx = gt_cls.clamp(0)[:, :, None].expand(B, M, A)
    s = torch.gather(scores.transpose(1, 2), 1, cls_idx)  # B,M,A
    metric = (s.pow(alpha) * iou.pow(beta)) * in_gt
    k = min(topk, A)
    top_val, top_idx = metric.topk(k, dim=-1)
    mask_top = torch.zeros_like(metric, dtype=torch.bool).scatter_(-1, top_idx, True)
    # guarantee candidates even when metric is ~0 everywhere: topk over in-gt anchors only
    mask_pos = mask_top & in_gt
    # anchors assigned to several GTs: keep the GT with the highest IoU
    multi = mask_pos.sum(1) > 1  # B,A
    if multi.any():
        best = (iou * mask_pos).argmax(1)  # B,A
        onehot = F.one_hot(best, M).transpose(1, 2).bool()
        mask_pos = torch.where(multi[:, None, :], onehot & mask_pos, mask_pos)
    fg = mask_pos.any(1)
    tgt_idx = mask_pos.float().argmax(1)
    metric = metric * mask_pos
    pos_align = metric.amax(-1, keepdim=True)
    pos_iou = (iou * mask_pos).amax(-1, keepdim=True)
    norm = (metric * pos_iou / (pos_align + eps)).amax(1)  # B,A
    tcls = torch.gather(gt_cls.clamp(0), 1, tgt_idx)
    tgt_scores = F.one_hot(tcls, C).float() * (norm * fg)[..., None]
    return fg, tgt_idx, tgt_scores


def pad_targets(tg):
    M = max([len(c) for c, _ in tg] + [1])
    B = len(tg)
    cls = torch.full((B, M), -1, dtype=torch.long)
    boxes = torch.zeros(B, M, 4)
    for i, (c, b) in enumerate(tg):
        n = len(c)
        if n:
            cls[i, :n] = torch.from_numpy(c)
            boxes[i, :n] = torch.from_numpy(b)
    return cls, boxes, cls >= 0


def compute_loss(out, tg, masks=None):
    ltrb, logits, anchors, strides = out["ltrb"], out["logits"], out["anchors"], out["strides"]
    B, A, C = logits.shape
    pboxes = torch.cat([anchors - ltrb[..., :2], anchors + ltrb[..., 2:]], -1)
    gt_cls, gt_boxes, gt_valid = pad_targets(tg)
    fg, tidx, tscores = tal_assign(logits.detach().sigmoid(), pboxes.detach(), anchors,
                                   gt_cls, gt_boxes, gt_valid)
    tss = max(tscores.sum().item(), 1.0)
    l_cls = F.binary_cross_entropy_with_logits(logits, tscores, reduction="sum") / tss
    l_box = logits.new_zeros(()); l_l1 = logits.new_zeros(()); l_mask = logits.new_zeros(())
    if fg.any():
        tb = torch.gather(gt_boxes, 1, tidx[..., None].expand(B, A, 4))[fg]  # N,4
        pb = pboxes[fg]
        w = tscores.sum(-1)[fg]
        _, giou = box_iou_pairwise(pb, tb)
        l_box = ((1 - giou) * w).sum() / tss
        st = strides.expand(B, A, 1)[fg]
        anc = anchors[None].expand(B, A, 2)[fg]
        tl = torch.cat([anc - tb[:, :2], tb[:, 2:] - anc], -1) / st
        l_l1 = ((ltrb[fg] / st - tl).abs().sum(-1) * w).sum() / tss
        if masks is not None:
            protos = out["protos"]  # B,nm,h,w
            nm, ph, pw = protos.shape[1:]
            coefs = out["coefs"]
            losses = []
            ys = torch.arange(ph, dtype=torch.float32)[:, None] + 0.5
            xs = torch.arange(pw, dtype=torch.float32)[None, :] + 0.5
            for b in range(B):
                fgb = fg[b]
                if not fgb.any():
                    continue
                gi = tidx[b][fgb]
                gm = masks[b][gi]                       # n,ph,pw
                pred = (coefs[b][fgb] @ protos[b].view(nm, -1)).view(-1, ph, pw)
                bce = F.binary_cross_entropy_with_logits(pred, gm, reduction="none")
                gb = gt_boxes[b][gi] * (pw / IMGSZ)                        # proto coords
                crop = ((xs[None] >= gb[:, 0, None, None]) & (xs[None] < gb[:, 2, None, None]) &
                        (ys[None] >= gb[:, 1, None, None]) & (ys[None] < gb[:, 3, None, None])).float()
                area = crop.sum((1, 2)).clamp(min=1.0)
                losses.append((bce * crop).sum((1, 2)) / area)
            if losses:
                l_mask = torch.cat(losses).mean()
    total = 1.0 * l_cls + 5.0 * l_box + 1.0 * l_l1 + 4.0 * l_mask
    return total, {"cls": l_cls.item(), "box": l_box.item(), "l1": l_l1.item(), "mask": l_mask.item(),
                   "fg": int(fg.sum())}


# ----------------------------------------------------------------------------------- EMA
class EMA:
    def __init__(self, model, decay=0.999, tau=300):
        self.ema = copy.deepcopy(model).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        msd = model.state_dict()
        for k, v in self.ema.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(msd[k].detach(), alpha=1 - d)
            else:
                v.copy_(msd[k])


# ----------------------------------------------------------------------------------- train
def train(task, epochs, iters_per_epoch, batch, seed, lr, init=None, log=print):
    seg = task == "segment"
    torch.manual_seed(seed)
    model = TinyYOLO(nc=len(CLASSES), seg=seg)
    if init is not None:
        missing, unexpected = model.load_state_dict(init, strict=False)
        log(f"[{task}] initialised from detector weights; new tensors: {len(missing)}")
    log(f"[{task}] params: {count_params(model)}")
    total_iters = epochs * iters_per_epoch
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.999))
    warm = min(100, total_iters // 10)

    def lr_at(it):
        if it < warm:
            return lr * (0.1 + 0.9 * it / warm)
        t = (it - warm) / max(1, total_iters - warm)
        return lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))

    ema = EMA(model)
    # data seed differs per task so that the segmenter sees fresh images
    data = SyntheticBatches(seed * 1000 + (1 if seg else 0), total_iters, batch, seg)
    loader = torch.utils.data.DataLoader(data, batch_size=1, collate_fn=collate, num_workers=1,
                                         prefetch_factor=4)
    model.train()
    t0 = time.time()
    run = {}
    for it, (x, tg, ms) in enumerate(loader):
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        out = model.forward_raw(x)
        loss, parts = compute_loss(out, tg, ms if seg else None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        ema.update(model)
        for k, v in parts.items():
            run[k] = 0.9 * run.get(k, v) + 0.1 * v
        if (it + 1) % iters_per_epoch == 0 or it == 0:
            ep = (it + 1) / iters_per_epoch
            log(f"[{task}] epoch {ep:5.2f} it {it + 1}/{total_iters} lr {lr_at(it):.5f} "
                + " ".join(f"{k} {v:.3f}" for k, v in run.items()) + f"  {time.time() - t0:.0f}s")
    elapsed = time.time() - t0
    log(f"[{task}] training time {elapsed:.0f}s")
    return ema.ema, model, elapsed


# ----------------------------------------------------------------------------------- export
def export(model, task, path):
    import onnx
    model = copy.deepcopy(model).eval()
    x = torch.zeros(1, 3, IMGSZ, IMGSZ)
    if task == "segment":
        out_names = ["output0", "output1"]
        dyn = {"images": {0: "batch"}, "output0": {0: "batch"}, "output1": {0: "batch"}}
    else:
        out_names = ["output0"]
        dyn = {"images": {0: "batch"}, "output0": {0: "batch"}}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, x, path, opset_version=17, input_names=["images"],
                      output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    # declare the static output shapes (the tracer leaves symbolic names on dims 1/2)
    nc = len(CLASSES)
    shapes = {"output0": ["batch", 4 + nc + (32 if task == "segment" else 0), 2100],
              "output1": ["batch", 32, IMGSZ // 4, IMGSZ // 4]}
    for o in m.graph.output:
        dims = o.type.tensor_type.shape.dim
        for d, v in zip(dims, shapes[o.name]):
            if isinstance(v, str):
                d.dim_param = v
            else:
                d.dim_value = v
    names = {i: c for i, c in enumerate(CLASSES)}
    desc = ("tiny YOLOv8-layout shapes detector trained on synthetic data by tools/train-shapes"
            if task == "detect" else
            "tiny YOLOv8-layout shapes instance segmenter trained on synthetic data by tools/train-shapes")
    meta = {"description": desc, "author": "inference-pool tools/train-shapes", "task": task,
            "stride": "32", "imgsz": "[320, 320]", "names": str(names)}
    del m.metadata_props[:]
    for k, v in meta.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    m.producer_name = "tools/train-shapes"
    onnx.checker.check_model(m, full_check=True)  # includes strict shape inference
    onnx.save(m, path)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["detect", "segment", "both"], default="both")
    ap.add_argument("--epochs", type=int, default=None, help="epochs for each model (overrides the two below)")
    ap.add_argument("--det-epochs", type=int, default=12)
    ap.add_argument("--seg-epochs", type=int, default=10)
    ap.add_argument("--iters-per-epoch", type=int, default=100, help="batches per epoch (fresh images)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "trained"))
    ap.add_argument("--ckpt-dir", default="/tmp/train-shapes", help="where .pt checkpoints go (not committed)")
    ap.add_argument("--det-init", default=None, help="detector .pt to initialise the segmenter (task=segment)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    logf = open(os.path.join(args.ckpt_dir, "train.log"), "a")

    def log(s):
        print(s, flush=True)
        logf.write(s + "\n"); logf.flush()

    det_epochs = args.epochs or args.det_epochs
    seg_epochs = args.epochs or args.seg_epochs
    log(f"args: {vars(args)}")
    times = {}
    det_state = None
    if args.task in ("detect", "both"):
        ema, _, t = train("detect", det_epochs, args.iters_per_epoch, args.batch, args.seed, args.lr, log=log)
        times["detect"] = t
        det_state = ema.state_dict()
        torch.save(det_state, os.path.join(args.ckpt_dir, "shapes-det.pt"))
        p = export(ema, "detect", os.path.join(args.out, "shapes-det.onnx"))
        log(f"exported {p} ({os.path.getsize(p)} bytes)")
    if args.task in ("segment", "both"):
        if det_state is None and args.det_init:
            det_state = torch.load(args.det_init)
        ema, _, t = train("segment", seg_epochs, args.iters_per_epoch, args.batch, args.seed, args.lr,
                          init=det_state, log=log)
        times["segment"] = t
        torch.save(ema.state_dict(), os.path.join(args.ckpt_dir, "shapes-seg.pt"))
        p = export(ema, "segment", os.path.join(args.out, "shapes-seg.onnx"))
        log(f"exported {p} ({os.path.getsize(p)} bytes)")
    log("training seconds: " + json.dumps({k: round(v) for k, v in times.items()}))


if __name__ == "__main__":
    main()
