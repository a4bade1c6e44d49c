// Mean average precision at IoU 0.5 (all-point interpolated, per class, then averaged over the
// classes that have ground truth), the usual detection metric, in plain JS.

export interface GroundTruth {
  classId: number;
  box: [number, number, number, number];
}

export interface Prediction {
  classId: number;
  box: [number, number, number, number];
  score: number;
}

export function boxIoU(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Per image: its ground truth and predictions. Returns mAP and the AP of each class. */
export function meanAveragePrecision(
  images: { truth: GroundTruth[]; predictions: Prediction[] }[],
  iouThreshold = 0.5,
): { map: number; perClass: Map<number, number> } {
  const classes = new Set(images.flatMap((im) => im.truth.map((t) => t.classId)));
  const perClass = new Map<number, number>();
  for (const c of classes) {
    const truthCount = images.reduce((n, im) => n + im.truth.filter((t) => t.classId === c).length, 0);
    const scored = images.flatMap((im, image) =>
      im.predictions.filter((p) => p.classId === c).map((p) => ({ image, p })),
    );
    scored.sort((a, b) => b.p.score - a.p.score);
    const matched = images.map((im) => im.truth.map(() => false));
    const tp: number[] = [];
    for (const { image, p } of scored) {
      let best = -1;
      let bestIoU = iouThreshold;
      images[image]!.truth.forEach((t, j) => {
        if (t.classId !== c || matched[image]![j]) return;
        const iou = boxIoU(p.box, t.box);
        if (iou >= bestIoU) {
          bestIoU = iou;
          best = j;
        }
      });
      if (best >= 0) matched[image]![best] = true;
      tp.push(best >= 0 ? 1 : 0);
    }
    // Precision/recall curve, precision made monotone, area under it.
    const recall: number[] = [];
    const precision: number[] = [];
    let hits = 0;
    tp.forEach((hit, i) => {
      hits += hit;
      recall.push(hits / truthCount);
      precision.push(hits / (i + 1));
    });
    for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i]!, precision[i + 1]!);
    let ap = 0;
    let previous = 0;
    recall.forEach((r, i) => {
      ap += (r - previous) * precision[i]!;
      previous = r;
    });
    perClass.set(c, ap);
  }
  const values = [...perClass.values()];
  return { map: values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0, perClass };
}
