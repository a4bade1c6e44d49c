"""Evaluate an exported shapes model on the fixed evaluation set (test/fixtures/shapes).

    /usr/bin/python3 tools/train-shapes/eval.py models/trained/shapes-det.onnx
    /usr/bin/python3 tools/train-shapes/eval.py models/trained/shapes-seg.onnx --vis /tmp/vis
    /usr/bin/python3 tools/train-shapes/eval.py models/trained/shapes-seg.onnx --compare-torch /tmp/train-shapes/shapes-seg.pt

The ONNX graph itself is run (there is no onnxruntime for Python here, so the raw outputs come
from onnxruntime-node in node_modules via a `node -e` subprocess); everything after that --
decoding, confidence threshold, class-wise NMS, mapping boxes back through the stretch-resize,
mask assembly, AP -- is plain numpy below, written to the same contract the C++ postprocessor
implements:

  output0 [N, 4+nc(+32), 2100]: cx, cy, w, h in 320x320 input pixels, nc sigmoid scores,
                                (32 raw mask coefficients)
  output1 [N, 32, 80, 80]      : prototypes
  mask = sigmoid(coeffs . protos) (80x80) -> bilinear to 320x320 -> crop to box -> > 0.5,
         then resized to the original image size.

With --backend torch the PyTorch checkpoint is evaluated instead (same decoding).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from dataset import CLASSES, to_input  # noqa: E402

IMGSZ = 320

NODE_RUNNER = r"""
const fs = require('fs');
const path = require('path');
const ort = require(path.join(process.argv[1], 'node_modules', 'onnxruntime-node'));
(async () => {
  const [, , model, inFile, n, outDir] = process.argv;
  const N = parseInt(n, 10);
  const per = 3 * 320 * 320;
  const buf = fs.readFileSync(inFile);
  const all = new Float32Array(buf.buffer, buf.byteOffset, N * per);
  const sess = await ort.InferenceSession.create(model);
  const chunks = {};
  const dims = {};
  const B = 8;
  for (let i = 0; i < N; i += B) {
    const b = Math.min(B, N - i);
    const t = new ort.Tensor('float32', all.slice(i * per, (i + b) * per), [b, 3, 320, 320]);
    const r = await sess.run({ images: t });
    for (const k of sess.outputNames) {
      (chunks[k] = chunks[k] || []).push(Buffer.from(r[k].data.buffer, r[k].data.byteOffset, r[k].data.byteLength));
      dims[k] = [N].concat(r[k].dims.slice(1));
    }
  }
  for (const k of sess.outputNames) fs.writeFileSync(path.join(outDir, k + '.bin'), Buffer.concat(chunks[k]));
  const meta = sess.handler && sess.handler.metadata ? sess.handler.metadata : null;
  console.log(JSON.stringify({ dims, inputNames: sess.inputNames, outputNames: sess.outputNames }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


# ----------------------------------------------------------------------------------- running
def run_onnx_node(model_path, x):
    with tempfile.TemporaryDirectory(prefix="shapes-eval-") as td:
        inp = os.path.join(td, "images.bin")
        np.ascontiguousarray(x, dtype=np.float32).tofile(inp)
        # argv[1] of `node -e` is the first extra argument: pass the repo root there
        res = subprocess.run(["node", "-e", NODE_RUNNER, ROOT, os.path.abspath(model_path), inp,
                              str(len(x)), td], capture_output=True, text=True, cwd=ROOT)
        if res.returncode != 0:
            raise RuntimeError("node/onnxruntime-node failed:\n" + res.stderr)
        info = json.loads(res.stdout.strip().splitlines()[-1])
        outs = []
        for k in info["outputNames"]:
            outs.append(np.fromfile(os.path.join(td, k + ".bin"), dtype=np.float32).reshape(info["dims"][k]))
        return outs, info


def run_torch(ckpt, seg, x):
    import torch
    from model import TinyYOLO
    torch.set_num_threads(1)
    m = TinyYOLO(nc=len(CLASSES), seg=seg)
    m.load_state_dict(torch.load(ckpt))
    m.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), 8):
            o = m(torch.from_numpy(x[i:i + 8]))
            outs.append([o] if not isinstance(o, tuple) else list(o))
    return [np.concatenate([o[j].numpy() for o in outs]) for j in range(len(outs[0]))]


# ----------------------------------------------------------------------------------- decoding
def box_iou(a, b):
    """a [n,4], b [m,4] xyxy -> [n,m]"""
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0]); iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2]); iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(aa[:, None] + ab[None, :] - inter, 1e-9)


def nms(boxes, scores, iou_thr):
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        ious = box_iou(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_thr]
    return np.array(keep, dtype=np.int64)


def decode(out0, nc, conf, iou_thr, max_det=100):
    """out0 [C, A] for one image -> boxes xyxy (input px) [n,4], scores [n], classes [n], anchor idx."""
    xywh = out0[:4].T
    sc = out0[4:4 + nc].T
    cls = sc.argmax(1)
    score = sc.max(1)
    keep = np.nonzero(score > conf)[0]
    xywh, cls, score = xywh[keep], cls[keep], score[keep]
    boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    sel = []
    for c in np.unique(cls):  # class-wise NMS
        idx = np.nonzero(cls == c)[0]
        sel.extend(idx[nms(boxes[idx], score[idx], iou_thr)])
    sel = np.array(sorted(sel, key=lambda i: -score[i]), dtype=np.int64)[:max_det]
    return boxes[sel], score[sel], cls[sel], keep[sel]


def resize_float(a, w, h):
    """Bilinear resize of a float32 2-D array (half-pixel centres, like F.interpolate align_corners=False)."""
    return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))


def instance_mask(coef, protos, box_in, W, H):
    """coef [32], protos [32,80,80], box in input px -> bool mask at original W x H."""
    nm, ph, pw = protos.shape
    logits = (coef @ protos.reshape(nm, -1)).reshape(ph, pw)
    prob = 1.0 / (1.0 + np.exp(-logits))
    up = resize_float(prob, IMGSZ, IMGSZ)
    ys = np.arange(IMGSZ)[:, None] + 0.5
    xs = np.arange(IMGSZ)[None, :] + 0.5
    x1, y1, x2, y2 = box_in
    crop = (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
    up = up * crop
    return resize_float(up, W, H) > 0.5


# ----------------------------------------------------------------------------------- metrics
def average_precision(tp, scores, n_gt):
    if n_gt == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(tp, dtype=np.float64)[order]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    rec = ctp / n_gt
    prec = ctp / np.maximum(ctp + cfp, 1e-9)
    # all-point interpolation (VOC2010+/COCO-style envelope)
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[1.0], prec, [0.0]])
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    i = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def evaluate(labels, fixture_dir, outs, nc, conf, iou_nms, seg, vis_dir=None):
    out0 = outs[0]
    protos = outs[1] if seg else None
    per_cls = {c: {"tp": [], "sc": [], "ngt": 0} for c in range(nc)}
    per_cls_m = {c: {"tp": [], "sc": [], "ngt": 0} for c in range(nc)}
    mask_ious = []
    n_det = 0
    for i, e in enumerate(labels):
        W, H = e["width"], e["height"]
        boxes, scores, cls, aidx = decode(out0[i], nc, conf, iou_nms)
        n_det += len(boxes)
        scale = np.array([W / IMGSZ, H / IMGSZ, W / IMGSZ, H / IMGSZ], dtype=np.float32)
        boxes_o = boxes * scale  # back to original image pixels (stretch-resize inverse)
        gt_boxes = np.array([o["box"] for o in e["objects"]], dtype=np.float32).reshape(-1, 4)
        gt_cls = np.array([o["class_id"] for o in e["objects"]], dtype=np.int64)
        gt_masks = None
        if seg:
            gt_masks = [np.asarray(Image.open(os.path.join(fixture_dir, o["mask"])).convert("L")) > 127
                        for o in e["objects"]]
            det_masks = [instance_mask(out0[i][4 + nc:, a], protos[i], b, W, H) for a, b in zip(aidx, boxes)]
        for c in range(nc):
            per_cls[c]["ngt"] += int((gt_cls == c).sum())
            per_cls_m[c]["ngt"] += int((gt_cls == c).sum())
        # greedy matching in score order (boxes)
        ious = box_iou(boxes_o, gt_boxes) if len(gt_boxes) else np.zeros((len(boxes_o), 0))
        matched = {}
        used = np.zeros(len(gt_boxes), dtype=bool)
        for d in range(len(boxes_o)):
            cand = np.where((gt_cls == cls[d]) & ~used)[0]
            ok = False
            if len(cand):
                j = cand[np.argmax(ious[d, cand])]
                if ious[d, j] >= 0.5:
                    used[j] = True
                    matched[j] = d
                    ok = True
            per_cls[int(cls[d])]["tp"].append(ok)
            per_cls[int(cls[d])]["sc"].append(float(scores[d]))
        if seg:
            miou = np.zeros((len(boxes_o), len(gt_boxes)))
            for d in range(len(boxes_o)):
                for j in range(len(gt_boxes)):
                    inter = np.logical_and(det_masks[d], gt_masks[j]).sum()
                    uni = np.logical_or(det_masks[d], gt_masks[j]).sum()
                    miou[d, j] = inter / max(uni, 1)
            usedm = np.zeros(len(gt_boxes), dtype=bool)
            for d in range(len(boxes_o)):
                cand = np.where((gt_cls == cls[d]) & ~usedm)[0]
                ok = False
                if len(cand):
                    j = cand[np.argmax(miou[d, cand])]
                    if miou[d, j] >= 0.5:
                        usedm[j] = True
                        ok = True
                per_cls_m[int(cls[d])]["tp"].append(ok)
                per_cls_m[int(cls[d])]["sc"].append(float(scores[d]))
            for j in range(len(gt_boxes)):
                mask_ious.append(miou[matched[j], j] if j in matched else 0.0)
        if vis_dir:
            save_vis(vis_dir, fixture_dir, e, boxes_o, scores, cls, det_masks if seg else None)
    aps = {CLASSES[c]: average_precision(v["tp"], v["sc"], v["ngt"]) for c, v in per_cls.items()}
    res = {"conf": conf, "iou_nms": iou_nms, "detections": n_det,
           "gt": sum(v["ngt"] for v in per_cls.values()),
           "box_mAP50": float(np.nanmean(list(aps.values()))), "box_AP50_per_class": aps}
    tp = sum(sum(v["tp"]) for v in per_cls.values())
    res["precision"] = tp / max(n_det, 1)
    res["recall"] = tp / max(res["gt"], 1)
    if seg:
        apm = {CLASSES[c]: average_precision(v["tp"], v["sc"], v["ngt"]) for c, v in per_cls_m.items()}
        mi = np.array(mask_ious)
        res.update({"mask_mAP50": float(np.nanmean(list(apm.values()))), "mask_AP50_per_class": apm,
                    "mask_iou_mean": float(mi.mean()), "mask_iou_median": float(np.median(mi)),
                    "mask_iou_frac_gt_0.7": float((mi > 0.7).mean()),
                    "mask_iou_min": float(mi.min())})
    return res


def save_vis(vis_dir, fixture_dir, e, boxes, scores, cls, masks):
    from PIL import ImageDraw
    os.makedirs(vis_dir, exist_ok=True)
    im = Image.open(os.path.join(fixture_dir, e["file"])).convert("RGB")
    arr = np.asarray(im).astype(np.float32)
    if masks is not None:
        pal = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.float32)
        for m, c in zip(masks, cls):
            arr[m] = arr[m] * 0.4 + pal[int(c)] * 0.6
    im = Image.fromarray(arr.astype(np.uint8))
    d = ImageDraw.Draw(im)
    for o in e["objects"]:
        d.rectangle(o["box"], outline=(255, 255, 255))
    for b, s, c in zip(boxes, scores, cls):
        d.rectangle([float(v) for v in b], outline=(0, 0, 0))
        d.text((float(b[0]) + 2, float(b[1]) + 2), f"{CLASSES[int(c)]} {s:.2f}", fill=(0, 0, 0))
    im.save(os.path.join(vis_dir, e["file"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="ONNX file (or .pt with --backend torch)")
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "test", "fixtures", "shapes"))
    ap.add_argument("--backend", choices=["onnx", "torch"], default="onnx")
    ap.add_argument("--task", choices=["detect", "segment"], default=None,
                    help="default: from the output layout (39 rows = segment)")
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45, help="NMS IoU")
    ap.add_argument("--compare-torch", default=None, help="checkpoint .pt: report max |onnx - torch|")
    ap.add_argument("--vis", default=None, help="write annotated images here")
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()
    labels = json.load(open(os.path.join(a.fixtures, "labels.json")))
    x = np.stack([to_input(Image.open(os.path.join(a.fixtures, e["file"])).convert("RGB"), IMGSZ)
                  for e in labels])
    nc = len(CLASSES)
    if a.backend == "onnx":
        outs, info = run_onnx_node(a.model, x)
        print("onnx outputs:", info["dims"])
    else:
        outs = run_torch(a.model, a.task == "segment", x)
    seg = outs[0].shape[1] == 4 + nc + 32 if a.task is None else a.task == "segment"
    assert outs[0].shape[1:] == (4 + nc + (32 if seg else 0), 2100), outs[0].shape
    if a.compare_torch:
        touts = run_torch(a.compare_torch, seg, x)
        for k, (o, t) in enumerate(zip(outs, touts)):
            print(f"output{k}: max |onnx - torch| = {np.abs(o - t).max():.3g} "
                  f"(max |value| {np.abs(t).max():.3g})")
    res = evaluate(labels, a.fixtures, outs, nc, a.conf, a.iou, seg, a.vis)
    res["model"] = os.path.relpath(os.path.abspath(a.model), ROOT)
    res["backend"] = a.backend
    # standard low-threshold mAP too (ranking over all detections)
    res["box_mAP50_conf0.001"] = evaluate(labels, a.fixtures, outs, nc, 0.001, a.iou, False)["box_mAP50"]
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
