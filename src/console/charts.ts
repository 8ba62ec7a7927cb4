/** Small SVG charts (no library): titled, with a text alternative (`<desc>`) for screen readers. */

const NS = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface Bar {
  label: string;
  value: number;
  /** CSS class for the bar's colour. */
  tone?: string;
}

/** `fluid` charts stretch to the panel; the others keep their drawn size (and label size) and only shrink. */
function frame(title: string, summary: string, width: number, height: number, fluid = true): SVGSVGElement {
  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width: fluid ? '100%' : width,
    role: 'img',
    class: 'chart',
    preserveAspectRatio: 'xMinYMin meet',
  }) as SVGSVGElement;
  svg.appendChild(svgEl('title', {}, title));
  svg.appendChild(svgEl('desc', {}, summary || 'no data'));
  return svg;
}

/** Vertical bars over time (compactions per UTC hour); `stacks` split each bar (automatic / manual). */
export function columnChart(title: string, columns: { label: string; stacks: Bar[] }[]): SVGSVGElement {
  const width = 640;
  const height = 180;
  const pad = { top: 12, right: 8, bottom: 28, left: 36 };
  const max = Math.max(1, ...columns.map((c) => c.stacks.reduce((n, s) => n + s.value, 0)));
  const summary = columns
    .map((c) => `${c.label}: ${c.stacks.map((s) => `${s.label} ${s.value}`).join(', ')}`)
    .join('; ');
  const svg = frame(title, summary, width, height);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const axis = (y: number, text: string) =>
    svg.appendChild(svgEl('text', { x: pad.left - 6, y, class: 'axis', 'text-anchor': 'end' }, text));
  axis(pad.top + 8, String(max));
  axis(pad.top + plotH, '0');
  svg.appendChild(
    svgEl('line', {
      x1: pad.left,
      x2: pad.left + plotW,
      y1: pad.top + plotH,
      y2: pad.top + plotH,
      class: 'baseline',
    }),
  );
  const slot = plotW / Math.max(columns.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.7));
  const labelEvery = Math.ceil(columns.length / 12);
  columns.forEach((column, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    let y = pad.top + plotH;
    const group = svgEl('g', { class: 'column', 'data-label': column.label });
    for (const stack of column.stacks) {
      const barH = (stack.value / max) * plotH;
      y -= barH;
      const rect = svgEl('rect', { x, y, width: barW, height: barH, class: `bar ${stack.tone ?? ''}` });
      rect.appendChild(svgEl('title', {}, `${column.label}: ${stack.label} ${stack.value}`));
      group.appendChild(rect);
    }
    svg.appendChild(group);
    if (i % labelEvery === 0) {
      const label = { x: x + barW / 2, y: height - 10, class: 'axis', 'text-anchor': 'middle' };
      svg.appendChild(svgEl('text', label, column.label));
    }
  });
  return svg;
}

/** One horizontal bar per row, split into parts (a connector's accepted / replayed / rejected requests). */
export function stackedBars(title: string, rows: { label: string; parts: Bar[] }[]): SVGSVGElement {
  const width = 560;
  const row = 24;
  const labelW = 160;
  const height = Math.max(row, rows.length * row) + 8;
  const totals = rows.map((r) => r.parts.reduce((n, p) => n + p.value, 0));
  const max = Math.max(1, ...totals);
  const summary = rows
    .map((r) => `${r.label}: ${r.parts.map((p) => `${p.label} ${p.value}`).join(', ')}`)
    .join('; ');
  const svg = frame(title, summary, width, height, false);
  rows.forEach((r, i) => {
    const y = 4 + i * row;
    const group = svgEl('g', { class: 'bar-row', 'data-label': r.label });
    const label = { x: labelW - 8, y: y + 15, class: 'label', 'text-anchor': 'end' };
    group.appendChild(svgEl('text', label, r.label));
    let x = labelW;
    for (const part of r.parts) {
      const barW = ((width - labelW - 70) * part.value) / max;
      const rect = svgEl('rect', {
        x,
        y: y + 3,
        width: barW,
        height: row - 8,
        class: `bar ${part.tone ?? ''}`,
      });
      rect.appendChild(svgEl('title', {}, `${r.label}: ${part.label} ${part.value}`));
      group.appendChild(rect);
      x += barW;
    }
    const text = r.parts.length === 1 ? String(totals[i]) : r.parts.map((p) => p.value).join(' / ');
    group.appendChild(svgEl('text', { x: x + 6, y: y + 15, class: 'value' }, text));
    svg.appendChild(group);
  });
  return svg;
}

/** Horizontal bars with values (usage by provider or channel). */
export function barChart(title: string, bars: Bar[]): SVGSVGElement {
  return stackedBars(
    title,
    bars.map((bar) => ({ label: bar.label, parts: [bar] })),
  );
}

/** One bar split into parts (attempt outcomes: success / failed / skipped). */
export function splitBar(title: string, parts: Bar[]): SVGSVGElement {
  const width = 640;
  const height = 36;
  const total = parts.reduce((n, p) => n + p.value, 0);
  const svg = frame(title, parts.map((p) => `${p.label}: ${p.value}`).join('; '), width, height);
  let x = 0;
  for (const part of parts) {
    const w = total === 0 ? 0 : (part.value / total) * width;
    const rect = svgEl('rect', { x, y: 4, width: w, height: height - 8, class: `bar ${part.tone ?? ''}` });
    rect.appendChild(svgEl('title', {}, `${part.label}: ${part.value}`));
    svg.appendChild(rect);
    x += w;
  }
  if (total === 0)
    svg.appendChild(svgEl('rect', { x: 0, y: 4, width, height: height - 8, class: 'bar empty' }));
  return svg;
}
