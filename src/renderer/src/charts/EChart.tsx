import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useEffectEvent, useRef, type CSSProperties } from 'react';

// Only what the views draw: the full echarts bundle is three times the size.
echarts.use([
  LineChart,
  BarChart,
  HeatmapChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ChartOption = EChartsCoreOption;

export interface EChartProps {
  option: ChartOption;
  /** Read by screen readers: what the chart shows, in one sentence (the canvas itself says nothing). */
  label: string;
  className?: string;
  style?: CSSProperties;
  /**
   * true (default): the new option replaces the old one (series removed from the option go away);
   * false: merged, cheaper for a live chart whose series stay the same.
   */
  notMerge?: boolean;
  /** Called with the instance once, e.g. to listen to clicks. */
  onReady?: (chart: echarts.ECharts) => void;
}

/**
 * One ECharts instance per mounted component: created on mount, given each new option, resized
 * with its box (ResizeObserver), disposed on unmount. Animation is off: a live dashboard redraws
 * every few seconds, and tweening 1,000 points each time costs frames for nothing.
 */
export function EChart({ option, label, className, style, notMerge = true, onReady }: EChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const chartRef = useRef<echarts.ECharts | null>(null);
  const ready = useEffectEvent((chart: echarts.ECharts) => onReady?.(chart));

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const chart = echarts.init(element, undefined, { renderer: 'canvas' });
    chartRef.current = chart;
    ready(chart);
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.dispose();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    chartRef.current?.setOption({ animation: false, ...option }, { notMerge, lazyUpdate: true });
  }, [option, notMerge]);

  return <div ref={ref} className={className ?? 'echart'} style={style} role="img" aria-label={label} />;
}

/** The current theme's CSS variable value (charts are drawn on canvas and cannot use var()). */
export function cssVar(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
