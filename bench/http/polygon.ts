// The plain server's polygons: Roboflow's segmentation answer carries each instance's outline as
// `points`, so the plain contender has to trace one too, as a developer without OpenCV would: the
// largest 8-connected component of the mask (the reference's `components`), its outer boundary
// followed pixel by pixel (Moore-neighbour tracing), in original-image pixels, straight runs kept as
// their ends (what OpenCV's CHAIN_APPROX_SIMPLE, the pool's, gives).
import { components } from '../../test/reference/detection.ts';
import type { Mask, Point } from '../../test/reference/detection.ts';

/** The 8 neighbours clockwise (y down), from west. */
const RING: readonly (readonly [number, number])[] = [
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
];
const ringIndex = (dx: number, dy: number) => RING.findIndex(([x, y]) => x === dx && y === dy);

export function outerPolygon(mask: Pick<Mask, 'data' | 'width' | 'height' | 'left' | 'top'>): Point[] {
  const { width, height, left, top } = mask;
  const { labels, extents } = components(mask);
  if (extents.length === 0) return [];
  let label = 1;
  for (let l = 2; l <= extents.length; l++) if (extents[l - 1]!.area > extents[label - 1]!.area) label = l;
  const start = labels.indexOf(label); // first in raster order: its west neighbour is outside it
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && labels[y * width + x] === label;

  const sx = start % width;
  const sy = (start - sx) / width;
  const points: Point[] = [{ x: sx + left, y: sy + top }];
  let x = sx;
  let y = sy;
  let back = 0; // ring index of the outside pixel the search around (x, y) starts from
  const neighbour = (k: number) => [x + RING[k % 8]![0], y + RING[k % 8]![1]] as const;
  // Every boundary pixel is entered at most 4 times; the bound only guards against a mistake.
  for (let steps = 0; steps < 4 * extents[label - 1]!.area + 8; steps++) {
    let next = back + 1;
    while (next <= back + 8 && !inside(...neighbour(next))) next++;
    if (next > back + 8) break; // a single pixel
    const [nx, ny] = neighbour(next);
    // Jacob's criterion: done when the first step, start → second point, comes round again.
    if (steps > 0 && x === sx && y === sy && nx + left === points[1]!.x && ny + top === points[1]!.y) {
      points.pop(); // the start, reached again
      break;
    }
    const [bx, by] = neighbour(next + 7); // the last outside pixel looked at
    x = nx;
    y = ny;
    back = ringIndex(bx - x, by - y);
    points.push({ x: x + left, y: y + top });
  }
  return corners(points);
}

/** The closed path's points where its direction changes. */
function corners(path: Point[]): Point[] {
  if (path.length < 3) return path;
  const n = path.length;
  return path.filter((p, i) => {
    const a = path[(i + n - 1) % n]!;
    const b = path[(i + 1) % n]!;
    return p.x - a.x !== b.x - p.x || p.y - a.y !== b.y - p.y;
  });
}
