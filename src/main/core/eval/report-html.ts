/**
 * report.html: the evaluation report as one self-contained page (inline CSS and SVG, no scripts,
 * no external assets), rendered from the same object as report.json.
 */
import type { EvaluationReport, MethodReport, Recall } from './evaluate';
import type { ForecastExample } from './score-fleet';

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const f = (x: number | null | undefined, d = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d);
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(0)}%`;

interface Frame {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function frame(w: number, h: number, xr: [number, number], yr: [number, number]): Frame {
  const left = 48;
  const right = 12;
  const top = 12;
  const bottom = 36;
  const span = (r: [number, number]): number => (r[1] - r[0] === 0 ? 1 : r[1] - r[0]);
  return {
    w,
    h,
    left,
    right,
    top,
    bottom,
    x: (v) => left + ((v - xr[0]) / span(xr)) * (w - left - right),
    y: (v) => h - bottom - ((v - yr[0]) / span(yr)) * (h - top - bottom),
  };
}

function axes(
  fr: Frame,
  xTicks: number[],
  yTicks: number[],
  xLabel: string,
  yLabel: string,
  fmtX = (v: number): string => String(v),
  fmtY = (v: number): string => String(v),
): string {
  const parts: string[] = [];
  parts.push(
    `<line x1="${fr.left}" y1="${fr.h - fr.bottom}" x2="${fr.w - fr.right}" y2="${fr.h - fr.bottom}" stroke="#333"/>`,
  );
  parts.push(`<line x1="${fr.left}" y1="${fr.top}" x2="${fr.left}" y2="${fr.h - fr.bottom}" stroke="#333"/>`);
  for (const t of xTicks)
    parts.push(
      `<text x="${fr.x(t).toFixed(1)}" y="${fr.h - fr.bottom + 14}" text-anchor="middle">${escapeHtml(fmtX(t))}</text>`,
    );
  for (const t of yTicks) {
    parts.push(
      `<line x1="${fr.left}" y1="${fr.y(t).toFixed(1)}" x2="${fr.w - fr.right}" y2="${fr.y(t).toFixed(1)}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${fr.left - 4}" y="${(fr.y(t) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(fmtY(t))}</text>`,
    );
  }
  parts.push(
    `<text x="${(fr.left + fr.w - fr.right) / 2}" y="${fr.h - 4}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
  );
  parts.push(
    `<text x="12" y="${(fr.top + fr.h - fr.bottom) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(fr.top + fr.h - fr.bottom) / 2})">${escapeHtml(yLabel)}</text>`,
  );
  return parts.join('');
}

const svg = (fr: Frame, body: string, title: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${fr.w}" height="${fr.h}" viewBox="0 0 ${fr.w} ${fr.h}" role="img" aria-label="${escapeHtml(title)}">${body}</svg>`;

const legend = (names: string[], x: number, y: number): string =>
  names
    .map(
      (n, i) =>
        `<rect x="${x}" y="${y + i * 14 - 8}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 14}" y="${y + i * 14}">${escapeHtml(n)}</text>`,
    )
    .join('');

const ticks01 = [0, 0.2, 0.4, 0.6, 0.8, 1];

function prChart(methods: Record<string, MethodReport>): string {
  const fr = frame(460, 320, [0, 1], [0, 1]);
  const names = Object.keys(methods);
  const lines = names.map((n, i) => {
    const pts = methods[n]!.prCurve.map((p) => `${fr.x(p.recall).toFixed(1)},${fr.y(p.precision).toFixed(1)}`).join(
      ' ',
    );
    return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="${n === 'model' ? 2.5 : 1.5}" points="${pts}"/>`;
  });
  return svg(
    fr,
    axes(fr, ticks01, ticks01, 'recall', 'precision') + lines.join('') + legend(names, fr.w - 150, 26),
    'precision-recall curves',
  );
}

function histogram(values: number[], maxH: number, binH: number, label: string): string {
  const bins = Math.ceil(maxH / binH);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v / binH)))]!++;
  const top = Math.max(1, ...counts);
  const fr = frame(460, 240, [0, maxH], [0, top]);
  const bars = counts.map((c, i) => {
    const x0 = fr.x(i * binH) + 1;
    const x1 = fr.x((i + 1) * binH) - 1;
    return `<rect x="${x0.toFixed(1)}" y="${fr.y(c).toFixed(1)}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${(fr.y(0) - fr.y(c)).toFixed(1)}" fill="${COLORS[0]}"><title>${c}</title></rect>`;
  });
  const yTicks = [0, Math.round(top / 2), top];
  return svg(
    fr,
    axes(
      fr,
      [0, 2, 4, 6, 8].filter((t) => t <= maxH),
      yTicks,
      label,
      'incidents',
    ) + bars.join(''),
    'lead-time histogram',
  );
}

function calibrationChart(r: EvaluationReport): string {
  const fr = frame(340, 320, [0, 1], [0, 1]);
  const diag = `<line x1="${fr.x(0)}" y1="${fr.y(0)}" x2="${fr.x(1)}" y2="${fr.y(1)}" stroke="#aaa" stroke-dasharray="4 3"/>`;
  const total = r.calibration.reduce((a, b) => a + b.count, 0) || 1;
  const dots = r.calibration
    .filter((b) => b.count > 0)
    .map(
      (b) =>
        `<circle cx="${fr.x(b.meanPredicted).toFixed(1)}" cy="${fr.y(b.observedRate).toFixed(1)}" r="${(3 + 12 * Math.sqrt(b.count / total)).toFixed(1)}" fill="${COLORS[0]}" fill-opacity="0.6"><title>${b.count} points, mean risk ${f(b.meanPredicted)}, positive rate ${f(b.observedRate)}</title></circle>`,
    );
  return svg(
    fr,
    axes(fr, ticks01, ticks01, 'mean predicted risk', 'observed positive rate') + diag + dots.join(''),
    'calibration diagram',
  );
}

function recallBars(r: EvaluationReport, key: 'recallByType' | 'recallByProfile'): string {
  const names = Object.keys(r.methods);
  const groups = [...new Set(names.flatMap((n) => Object.keys(r.methods[n]![key])))];
  const w = Math.max(460, 70 + groups.length * Math.max(120, names.length * 10 + 24));
  const fr = frame(w, 280, [0, groups.length], [0, 1]);
  const bw = (fr.x(1) - fr.x(0) - 16) / names.length;
  const bars: string[] = [];
  groups.forEach((g, gi) => {
    names.forEach((n, ni) => {
      const rec = r.methods[n]![key][g];
      const v = rec?.recall ?? 0;
      const x = fr.x(gi) + 8 + ni * bw;
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${fr.y(v).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(fr.y(0) - fr.y(v)).toFixed(1)}" fill="${COLORS[ni % COLORS.length]}"><title>${escapeHtml(`${n} ${g}: ${rec?.warned ?? 0}/${rec?.incidents ?? 0}`)}</title></rect>`,
      );
    });
  });
  const labels = groups.map(
    (g, gi) =>
      `<text x="${fr.x(gi + 0.5).toFixed(1)}" y="${fr.h - fr.bottom + 14}" text-anchor="middle">${escapeHtml(g)}</text>`,
  );
  const body =
    axes(fr, [], ticks01, key === 'recallByType' ? 'incident type' : 'profile', 'recall', undefined, pct) +
    bars.join('') +
    labels.join('');
  return svg(fr, body, 'recall by incident type');
}

function forecastChart(x: ForecastExample): string {
  const n = x.context.length;
  const all = [...x.context, ...x.actual, ...x.p10, ...x.p90].filter(
    (v): v is number => v !== null && Number.isFinite(v),
  );
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = (hi - lo) * 0.05 || 1;
  const hours = (i: number): number => ((i - (n - 1)) * x.stepMinutes) / 60;
  const last = n + x.p50.length - 1;
  const fr = frame(460, 240, [hours(0), hours(last)], [lo - pad, hi + pad]);
  const line = (vals: (number | null)[], offset: number, color: string, width = 1.5): string => {
    const segs: string[] = [];
    let cur: string[] = [];
    vals.forEach((v, i) => {
      if (v === null) {
        if (cur.length) segs.push(cur.join(' '));
        cur = [];
      } else cur.push(`${fr.x(hours(i + offset)).toFixed(1)},${fr.y(v).toFixed(1)}`);
    });
    if (cur.length) segs.push(cur.join(' '));
    return segs.map((s) => `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${s}"/>`).join('');
  };
  const band =
    x.p90.map((v, i) => `${fr.x(hours(n + i)).toFixed(1)},${fr.y(v).toFixed(1)}`).join(' ') +
    ' ' +
    x.p10
      .map((v, i) => `${fr.x(hours(n + i)).toFixed(1)},${fr.y(v).toFixed(1)}`)
      .reverse()
      .join(' ');
  const now = `<line x1="${fr.x(0).toFixed(1)}" y1="${fr.top}" x2="${fr.x(0).toFixed(1)}" y2="${fr.h - fr.bottom}" stroke="#999" stroke-dasharray="3 3"/>`;
  const yTicks = [lo, (lo + hi) / 2, hi];
  const body =
    axes(
      fr,
      [-24, -16, -8, 0, 8].filter((t) => t >= hours(0) && t <= hours(last)),
      yTicks,
      'hours from t',
      x.metric,
      (v) => String(v),
      (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)),
    ) +
    `<polygon points="${band}" fill="${COLORS[1]}" fill-opacity="0.2"/>` +
    now +
    line(x.context, 0, '#333') +
    line(x.actual, n, '#333', 1) +
    line(x.p50, n, COLORS[1]!, 2);
  return svg(fr, body, `forecast ${x.server} ${x.metric}`);
}

function recallCell(x: { warned: number; incidents: number; recall: number | null }): string {
  return `${pct(x.recall)} <small>(${x.warned}/${x.incidents})</small>`;
}

export function renderReportHtml(r: EvaluationReport): string {
  const names = Object.keys(r.methods);
  const ev = r.fleets.evaluation;
  const va = r.fleets.validation;
  const methodRows = names
    .map((n) => {
      const m = r.methods[n]!;
      return `<tr><th>${escapeHtml(n)}</th><td>${f(m.auroc)}</td><td>${f(m.auprc)}</td><td>${f(m.brier)}</td><td>${f(m.ece)}</td><td>${f(m.threshold, 4)}</td><td>${f(m.validationFalseAlarmsPerServerWeek, 2)}</td><td>${recallCell(m.validationRecall.withPrecursor)}</td><td>${recallCell(m.recall.all)}</td><td>${recallCell(m.recall.withPrecursor)}</td><td>${recallCell(m.recall.sudden)}</td><td>${f(m.leadTimeHours.median, 1)}</td><td>${f(m.leadTimeHours.p10, 1)}</td><td>${f(m.falseAlarmsPerServerDay, 3)}</td><td>${f(m.falseAlarmsPerServerWeek, 2)}</td></tr>`;
    })
    .join('');
  const goalRows = r.goals
    .map(
      (g) =>
        `<tr class="${g.met ? 'met' : 'unmet'}"><td>${g.met ? 'met' : 'NOT met'}</td><td>${escapeHtml(g.goal)}</td><td>${f(g.value)}</td><td>${escapeHtml(g.target)}</td></tr>`,
    )
    .join('');
  const profiles = [...new Set(names.flatMap((n) => Object.keys(r.methods[n]!.recallByProfile)))];
  const profileRows = profiles
    .map(
      (p) =>
        `<tr><th>${escapeHtml(p)}</th><td>${ev.unseenByProfile[p] ?? 0}</td>${names.map((n) => `<td>${r.methods[n]!.recallByProfile[p] ? recallCell(r.methods[n]!.recallByProfile[p]) : 'n/a'}</td>`).join('')}</tr>`,
    )
    .join('');
  // Incidents with a precursor, per type: how many each method warned of, and how early.
  const types = [...new Set(names.flatMap((n) => Object.keys(r.methods[n]!.recallByTypeWithPrecursor)))].sort();
  const leadCell = (x: Recall | undefined): string =>
    x ? `${recallCell(x)}${x.medianLeadHours === null ? '' : `, ${f(x.medianLeadHours, 1)} h`}` : 'n/a';
  const typeRows = types
    .map((t) => `<tr><th>${escapeHtml(t)}</th>${names.map((n) => `<td>${leadCell(r.methods[n]!.recallByTypeWithPrecursor[t])}</td>`).join('')}</tr>`)
    .join('');
  const forecastRows = Object.entries(r.forecast)
    .map(
      ([m, x]) =>
        `<tr><th>${escapeHtml(m)}</th><td>${x.points}</td><td>${f(x.pinballP10, 4)}</td><td>${f(x.pinballP50, 4)}</td><td>${f(x.pinballP90, 4)}</td><td>${f(x.maeP50, 4)}</td><td>${f(x.maeSeasonalNaive, 4)}</td><td>${f(x.mase)}</td></tr>`,
    )
    .join('');
  const definitions = Object.entries(r.definitions)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  const examples = r.forecastExamples
    .map(
      (x) =>
        `<figure>${forecastChart(x)}<figcaption>${escapeHtml(`${x.server}, ${x.incidentType ?? ''} incident, forecast made at ${new Date(x.time).toISOString()} (2 h before onset): black = step means, blue = P50 with the P10–P90 band`)}</figcaption></figure>`,
    )
    .join('');
  const modelLeads = r.methods.model?.leadTimeHours.values ?? [];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Early-warning benchmark: ${escapeHtml(r.model.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{text-align:left;background:#f7f7f7}
tr.met td:first-child{color:#1a7f37;font-weight:600}tr.unmet td:first-child{color:#c62828;font-weight:600}td:nth-child(2){text-align:left}
svg{font:11px system-ui,sans-serif;background:#fff;border:1px solid #eee}figure{display:inline-block;margin:0 16px 16px 0;vertical-align:top}figcaption{max-width:460px;font-size:12px;color:#555}
dt{font-weight:600;margin-top:6px}dd{margin-left:16px}small{color:#777}
</style></head><body>
<h1>Early-warning benchmark</h1>
<p>Model <b>${escapeHtml(r.model.name)}</b> (${escapeHtml(r.model.version)}, ${escapeHtml(r.model.dir)}), ${escapeHtml(r.createdAt)}. Evaluation fleet: seed <code>${escapeHtml(ev.seed)}</code>, ${ev.servers} servers (${ev.unseenServers} never seen in training) x ${ev.days} days from ${escapeHtml(ev.start)}; ${ev.points} points, ${ev.positivePoints} positive (${pct(ev.points ? ev.positivePoints / ev.points : null)}), ${ev.scoredIncidents} of ${ev.incidents} incidents scored. Thresholds and Holt parameters (alpha ${r.holt.alpha}, beta ${r.holt.beta}) come from the validation fleet (seed <code>${escapeHtml(va.seed)}</code>, ${va.servers} servers x ${va.days} days, ${va.points} points) and are frozen.</p>
<h2>Goals</h2><table><tr><th>status</th><th>goal</th><th>value</th><th>target</th></tr>${goalRows}</table>
<h2>Methods on the evaluation fleet</h2>
<table><tr><th>method</th><th>AUROC</th><th>AUPRC</th><th>Brier</th><th>ECE</th><th>threshold</th><th>val. FA/server-week</th><th>val. recall (precursor)</th><th>recall (all)</th><th>recall (precursor)</th><th>recall (sudden)</th><th>median lead h</th><th>p10 lead h</th><th>FA/server-day</th><th>FA/server-week</th></tr>${methodRows}</table>
<figure>${prChart(r.methods)}<figcaption>Precision-recall over all evaluation points. Positive share = ${pct(ev.points ? ev.positivePoints / ev.points : null)} (a random score's AUPRC).</figcaption></figure>
<figure>${calibrationChart(r)}<figcaption>Calibration of the model's risk (10 bins, dot area ~ points). ECE ${f(r.methods.model?.ece)}.</figcaption></figure>
<figure>${histogram(modelLeads, 8, 0.5, 'lead time (hours)')}<figcaption>Lead time of the incidents the model warned about (${modelLeads.length}).</figcaption></figure>
<h2>Recall by incident type</h2>
<figure>${recallBars(r, 'recallByType')}<figcaption>${names.map((n, i) => `<span style="color:${COLORS[i % COLORS.length]}">■</span> ${escapeHtml(n)}`).join(' ')}</figcaption></figure>
<table><tr><th>with a precursor: warned, median lead</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>${typeRows}</table>
<h2>Recall by profile</h2>
<table><tr><th>profile</th><th>unseen servers</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>${profileRows}</table>
<h2>Forecast quality (model, evaluation fleet)</h2>
<table><tr><th>metric</th><th>points</th><th>pinball P10</th><th>pinball P50</th><th>pinball P90</th><th>MAE P50</th><th>MAE seasonal naive</th><th>MASE</th></tr>${forecastRows}</table>
${examples}
<h2>Definitions</h2><dl>${definitions}</dl>
<p><small>Generated by <code>npm run evaluate</code>; every number here is in report.json beside this file.</small></p>
</body></html>
`;
}
