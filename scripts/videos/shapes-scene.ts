// A synthetic scene of filled shapes moving along known straight paths, drawn frame by frame into raw
// RGB pixels, with each frame's ground truth (the shapes the trained shapes models know: circle,
// square, triangle). Deterministic: the same scene every time.

export interface MovingShape {
  /** Stable identity across frames (the ground-truth track). */
  id: number;
  class: 'circle' | 'square' | 'triangle';
  classId: number;
  colour: [number, number, number];
  /** Side (or diameter) in pixels. */
  size: number;
  /** Centre at frame 0 and its motion in pixels per frame. */
  x: number;
  y: number;
  dx: number;
  dy: number;
}

export interface TruthObject {
  id: number;
  class: string;
  class_id: number;
  /** x1, y1, x2, y2 in pixels (exclusive right/bottom). */
  box: [number, number, number, number];
}

export interface Scene {
  width: number;
  height: number;
  fps: number;
  frames: number;
  background: [number, number, number];
  shapes: MovingShape[];
}

const CLASS_IDS = { circle: 0, square: 1, triangle: 2 } as const;

export function shape(
  id: number,
  cls: MovingShape['class'],
  colour: [number, number, number],
  size: number,
  from: [number, number],
  velocity: [number, number],
): MovingShape {
  return {
    id,
    class: cls,
    classId: CLASS_IDS[cls],
    colour,
    size,
    x: from[0],
    y: from[1],
    dx: velocity[0],
    dy: velocity[1],
  };
}

/** Three shapes on separate paths that never meet. */
export function separateScene(width = 640, height = 480, frames = 90): Scene {
  const s = Math.round(Math.min(width, height) * 0.26);
  return {
    width,
    height,
    fps: 30,
    frames,
    background: [70, 90, 120],
    shapes: [
      shape(1, 'circle', [230, 60, 40], s, [s, height * 0.25], [(width - 2 * s) / frames, 0]),
      shape(2, 'square', [250, 220, 60], s, [width * 0.5, s * 0.75], [0, (height - 1.5 * s) / frames]),
      shape(3, 'triangle', [60, 220, 90], s, [width - s, height - s * 0.75], [-(width - 2 * s) / frames, 0]),
    ],
  };
}

/** Two circles that cross paths mid-scene (an identity-switch test for trackers). */
export function crossingScene(width = 640, height = 480, frames = 90): Scene {
  const s = Math.round(Math.min(width, height) * 0.24);
  return {
    width,
    height,
    fps: 30,
    frames,
    background: [70, 90, 120],
    shapes: [
      shape(1, 'circle', [230, 60, 40], s, [s, height * 0.35], [(width - 2 * s) / frames, (height * 0.3) / frames]),
      shape(
        2,
        'circle',
        [240, 200, 60],
        Math.round(s * 0.8),
        [width - s, height * 0.35],
        [-(width - 2 * s) / frames, (height * 0.3) / frames],
      ),
    ],
  };
}

function centre(sh: MovingShape, frame: number): [number, number] {
  return [sh.x + sh.dx * frame, sh.y + sh.dy * frame];
}

/** Whether pixel (px, py) (its centre) is inside the shape at this frame. */
function inside(sh: MovingShape, frame: number, px: number, py: number): boolean {
  const [cx, cy] = centre(sh, frame);
  const h = sh.size / 2;
  const x = px + 0.5 - cx;
  const y = py + 0.5 - cy;
  if (sh.class === 'circle') return x * x + y * y <= h * h;
  if (sh.class === 'square') return Math.abs(x) <= h && Math.abs(y) <= h;
  // Upright triangle: apex at the top, base at the bottom, inside the size × size box.
  if (y < -h || y > h) return false;
  const halfWidth = ((y + h) / (2 * h)) * h;
  return Math.abs(x) <= halfWidth;
}

/** One frame's RGB pixels (later shapes are drawn over earlier ones). */
export function drawFrame(scene: Scene, frame: number): Buffer {
  const { width, height } = scene;
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set(scene.background, i * 3);
  for (const sh of scene.shapes) {
    const [cx, cy] = centre(sh, frame);
    const h = sh.size / 2 + 1;
    const x0 = Math.max(0, Math.floor(cx - h));
    const x1 = Math.min(width, Math.ceil(cx + h));
    const y0 = Math.max(0, Math.floor(cy - h));
    const y1 = Math.min(height, Math.ceil(cy + h));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) if (inside(sh, frame, x, y)) out.set(sh.colour, (y * width + x) * 3);
    }
  }
  return out;
}

/** The shapes' boxes at a frame (the drawn extent, clipped to the image). */
export function truthAt(scene: Scene, frame: number): TruthObject[] {
  return scene.shapes.map((sh) => {
    const [cx, cy] = centre(sh, frame);
    const h = sh.size / 2;
    return {
      id: sh.id,
      class: sh.class,
      class_id: sh.classId,
      box: [
        Math.max(0, Math.round(cx - h)),
        Math.max(0, Math.round(cy - h)),
        Math.min(scene.width, Math.round(cx + h)),
        Math.min(scene.height, Math.round(cy + h)),
      ],
    };
  });
}
