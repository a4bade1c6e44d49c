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
