import { memo, useMemo } from 'react';
import { METRIC_BY_NAME } from '@shared/contract';
import type { ForecastBand } from '@shared/domain';
import { useChartTheme, withAlpha } from './chart-theme';
import { EChart } from './EChart';

/**
 * A forecast at a glance: the P10–P90 band, the P50 line and the metric's contract critical
 * threshold (dashed), over the horizon. No axes: the table around it says what it is.
 */
export const ForecastSparkline = memo(function ForecastSparkline({
  band,
  color,
  label,
}: {
  band: ForecastBand;
  /** The line's colour (the server's risk colour). */
  color: 'healthy' | 'warning' | 'critical';
  label: string;
}) {
  const theme = useChartTheme();
  const option = useMemo(() => {
    const spec = METRIC_BY_NAME[band.metric];
    const stroke = theme[color];
    const width = band.p90.map((v, i) => Math.max(0, v - (band.p10[i] ?? v)));
    // The band's own range, padded, so a trend shows; the critical line joins in when it is near
    // (within the band's height again above it), else it would flatten the forecast to a line.
    const all = [...band.p10, ...band.p90];
    let max = Math.max(...all);
    let min = Math.min(...all);
    const span = Math.max(max - min, Math.abs(max) * 0.05, 1e-9);
    const showCritical = spec.critical !== null && spec.critical <= max + span * 1.5;
    if (showCritical) max = Math.max(max, spec.critical!);
    max += span * 0.1;
    min = Math.max(spec.min, min - span * 0.1);
    return {
      grid: { left: 1, right: 1, top: 3, bottom: 3 },
      xAxis: { type: 'category', show: false, boundaryGap: false, data: band.p50.map((_, i) => i) },
      yAxis: { type: 'value', show: false, min, max },
      tooltip: { show: false },
      series: [
        { type: 'line', data: band.p10, stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, silent: true },
        {
          type: 'line',
          data: width,
          stack: 'band',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          areaStyle: { color: withAlpha(stroke, 0.28) },
          silent: true,
        },
        {
          type: 'line',
          data: band.p50,
          symbol: 'none',
          lineStyle: { color: stroke, width: 1.5 },
          silent: true,
          markLine:
            !showCritical || spec.critical === null
              ? undefined
              : {
                  silent: true,
                  symbol: 'none',
                  label: { show: false },
                  lineStyle: { color: theme.critical, type: 'dashed', width: 1, opacity: 0.8 },
                  data: [{ yAxis: spec.critical }],
                },
        },
      ],
    };
  }, [band, color, theme]);
  return <EChart option={option} label={label} className="sparkline" />;
});
