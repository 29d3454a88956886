import { useEffect, useState } from 'react';
import { cssVar } from '../charts/EChart';

/**
 * The colours a chart needs, read from the theme's CSS variables (charts draw on a canvas and
 * cannot use var()). Shared by the Trends and Demo views.
 */
export interface ChartTheme {
  /** The page's font stack (a canvas cannot use `inherit`: an invalid font is ignored and it falls back to 10px). */
  fontFamily: string;
  text: string;
  textMuted: string;
  textFaint: string;
  border: string;
  surface: string;
  accent: string;
  ok: string;
  warn: string;
  error: string;
  riskLow: string;
  riskElevated: string;
  riskHigh: string;
  riskCritical: string;
  /** Categorical series colours, told apart in both themes. */
  series: readonly string[];
}

type Read = (name: string, fallback: string) => string;

/** The theme from a reader of CSS variables (cssVar in the page; a map in tests). */
export function readChartTheme(read: Read): ChartTheme {
  const accent = read('--accent', '#6e9cf7');
  return {
    fontFamily: read('--font-sans', 'system-ui, sans-serif'),
    text: read('--text', '#d9dde5'),
    textMuted: read('--text-muted', '#8b93a3'),
    textFaint: read('--text-faint', '#636b7a'),
    border: read('--border', '#252a34'),
    surface: read('--surface', '#161920'),
    accent,
    ok: read('--ok', '#3fb68b'),
    warn: read('--warn', '#e0a437'),
    error: read('--error', '#f0625a'),
    riskLow: read('--risk-low', '#3fb68b'),
    riskElevated: read('--risk-elevated', '#f2c94c'),
    riskHigh: read('--risk-high', '#f2994a'),
    riskCritical: read('--risk-critical', '#e5534b'),
    // Okabe-Ito-like hues (readable on both backgrounds), the accent first.
    series: [accent, '#e69f00', '#2aa198', '#cc79a7', '#8e7cc3', '#56b4e9', '#b58900', '#d55e00', '#009e73', '#999999'],
  };
}

/** The current theme's chart colours, read again whenever the theme or the risk palette changes. */
export function useChartTheme(): ChartTheme {
  const [theme, setTheme] = useState<ChartTheme>(() => readChartTheme(cssVar));
  useEffect(() => {
    if (typeof MutationObserver === 'undefined') return;
    const observer = new MutationObserver(() => setTheme(readChartTheme(cssVar)));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'data-palette'] });
    return () => observer.disconnect();
  }, []);
  return theme;
}

/** The axis, grid and tooltip styling every chart of these views shares. */
export function baseChartOption(theme: ChartTheme) {
  return {
    textStyle: { color: theme.text, fontFamily: theme.fontFamily },
    tooltip: {
      trigger: 'axis' as const,
      backgroundColor: theme.surface,
      borderColor: theme.border,
      textStyle: { color: theme.text, fontSize: 12 },
      confine: true,
    },
    legend: {
      top: 0,
      left: 0,
      textStyle: { color: theme.textMuted, fontSize: 12 },
      itemWidth: 14,
      itemHeight: 8,
      inactiveColor: theme.textFaint,
    },
  };
}

export function timeAxis(theme: ChartTheme, min?: number, max?: number) {
  return {
    type: 'time' as const,
    min,
    max,
    axisLine: { lineStyle: { color: theme.border } },
    axisLabel: { color: theme.textMuted, hideOverlap: true },
    splitLine: { show: false },
  };
}

export function valueAxis(theme: ChartTheme, extra: Record<string, unknown> = {}) {
  return {
    type: 'value' as const,
    axisLine: { show: false },
    axisLabel: { color: theme.textMuted },
    splitLine: { lineStyle: { color: theme.border } },
    nameTextStyle: { color: theme.textMuted, align: 'left' as const },
    ...extra,
  };
}
