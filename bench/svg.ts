// The SVG pieces the benchmark charts share: the document with its title line, and a panel's frame
// with its value axis (five ticks from 0 to ymax, light grid lines).

export function svgDocument(width: number, height: number, titleMarkup: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="13">${titleMarkup}</text>`,
  ];
}

export interface PanelFrame {
  /** Top-left corner of the plotting area, its size, and the value at its top. */
  ox: number;
  oy: number;
  pw: number;
  ph: number;
  ymax: number;
  title: string;
}

/** Draws the frame into `parts`; returns the value → y mapping. */
export function drawPanelFrame(parts: string[], p: PanelFrame): (v: number) => number {
  const ly = (v: number) => p.oy + p.ph - (v / p.ymax) * p.ph;
  parts.push(`<text x="${p.ox}" y="${p.oy - 8}" font-size="12">${p.title}</text>`);
  parts.push(`<rect x="${p.ox}" y="${p.oy}" width="${p.pw}" height="${p.ph}" fill="none" stroke="#ccc"/>`);
  for (let t = 0; t <= 4; t++) {
    const v = (p.ymax * t) / 4;
    parts.push(
      `<text x="${p.ox - 6}" y="${ly(v) + 4}" text-anchor="end" fill="#555">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`,
    );
    parts.push(`<line x1="${p.ox}" x2="${p.ox + p.pw}" y1="${ly(v)}" y2="${ly(v)}" stroke="#eee"/>`);
  }
  return ly;
}

export interface Bar {
  label: string;
  /** Not finite: the slot says 'not run'. */
  value: number;
  colour: string;
}

/** Bars side by side across a panel, each labelled below and its value above. */
export function drawBars(parts: string[], p: PanelFrame, ly: (v: number) => number, bars: Bar[], digits: number): void {
  const slot = p.pw / bars.length;
  bars.forEach((bar, i) => {
    const x = p.ox + i * slot + slot * 0.15;
    const mid = (x + slot * 0.35).toFixed(1);
    parts.push(`<text x="${mid}" y="${p.oy + p.ph + 14}" text-anchor="middle" fill="#555">${bar.label}</text>`);
    if (!Number.isFinite(bar.value)) {
      parts.push(`<text x="${mid}" y="${p.oy + p.ph - 6}" text-anchor="middle" fill="#999">not run</text>`);
      return;
    }
    const top = ly(bar.value);
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(p.oy + p.ph - top).toFixed(1)}" fill="${bar.colour}"/>`,
    );
    parts.push(`<text x="${mid}" y="${(top - 4).toFixed(1)}" text-anchor="middle">${bar.value.toFixed(digits)}</text>`);
  });
}
