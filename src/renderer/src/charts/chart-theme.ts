import { useSyncExternalStore } from 'react';

/**
 * The current theme's colours for charts: ECharts draws on canvas, which cannot read var(), so
 * the CSS variables are read once per theme or palette change (the attributes on <html> that
 * theme.ts sets) and every chart's option is rebuilt from them.
 */
export interface ChartTheme {
  key: string;
  font: string;
  text: string;
  muted: string;
  faint: string;
  border: string;
  surface: string;
  surface2: string;
  accent: string;
  healthy: string;
  warning: string;
  critical: string;
  stale: string;
  none: string;
}

const FALLBACK: Omit<ChartTheme, 'key'> = {
  font: 'system-ui, sans-serif',
  text: '#d9dde5',
  muted: '#8b93a3',
  faint: '#636b7a',
  border: '#252a34',
  surface: '#161920',
  surface2: '#1c2029',
  accent: '#6e9cf7',
  healthy: '#3fb68b',
  warning: '#e8c13f',
  critical: '#e5534b',
  stale: '#3a3f4a',
  none: '#4a505c',
};

function read(): ChartTheme {
  if (typeof document === 'undefined') return { key: 'none', ...FALLBACK };
  const root = document.documentElement;
  const style = getComputedStyle(root);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    key: `${root.dataset['theme'] ?? ''}/${root.dataset['palette'] ?? ''}`,
    font: v('--font-sans', FALLBACK.font),
    text: v('--text', FALLBACK.text),
    muted: v('--text-muted', FALLBACK.muted),
    faint: v('--text-faint', FALLBACK.faint),
    border: v('--border', FALLBACK.border),
    surface: v('--surface', FALLBACK.surface),
    surface2: v('--surface-2', FALLBACK.surface2),
    accent: v('--accent', FALLBACK.accent),
    healthy: v('--risk-healthy', FALLBACK.healthy),
    warning: v('--risk-warning', FALLBACK.warning),
    critical: v('--risk-critical', FALLBACK.critical),
    stale: v('--risk-stale', FALLBACK.stale),
    none: v('--risk-none', FALLBACK.none),
  };
}

let current: ChartTheme | null = null;
const listeners = new Set<() => void>();
let observer: MutationObserver | null = null;

function subscribe(onChange: () => void): () => void {
  listeners.add(onChange);
  if (!observer && typeof MutationObserver !== 'undefined') {
    observer = new MutationObserver(() => {
      const next = read();
      if (current && next.key === current.key) return;
      current = next;
      for (const listener of [...listeners]) listener();
    });
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'data-palette'] });
  }
  return () => {
    listeners.delete(onChange);
    if (listeners.size === 0) {
      observer?.disconnect();
      observer = null;
      current = null;
    }
  };
}

function getSnapshot(): ChartTheme {
  if (current === null) current = read();
  return current;
}

/** The chart colours of the theme and palette now; a new object (and a re-render) when either changes. */
export function useChartTheme(): ChartTheme {
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/** Axis, grid and tooltip styling shared by every chart. */
export function baseOption(theme: ChartTheme) {
  return {
    textStyle: { fontFamily: theme.font, color: theme.muted, fontSize: 11 },
    tooltip: {
      backgroundColor: theme.surface2,
      borderColor: theme.border,
      textStyle: { color: theme.text, fontSize: 12 },
      confine: true,
    },
  };
}

export function timeAxis(theme: ChartTheme, extra: Record<string, unknown> = {}) {
  return {
    type: 'time',
    axisLine: { lineStyle: { color: theme.border } },
    axisTick: { show: false },
    axisLabel: { color: theme.muted, fontSize: 10, hideOverlap: true },
    splitLine: { show: false },
    ...extra,
  };
}

export function valueAxis(theme: ChartTheme, extra: Record<string, unknown> = {}) {
  return {
    type: 'value',
    axisLine: { show: false },
    axisTick: { show: false },
    axisLabel: { color: theme.muted, fontSize: 10 },
    splitLine: { lineStyle: { color: theme.border, type: 'dashed' } },
    ...extra,
  };
}

/** "#3fb68b" -> "rgba(63,182,139,0.25)"; anything else is returned as is. */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  const n = parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/** For text put into ECharts tooltip formatters, which are HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
