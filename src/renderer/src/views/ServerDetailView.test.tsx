import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Explanation, ServerPrediction } from '@shared/domain';
import { ExplanationBody, UpstreamNote } from './ServerDetailView';

/** The "why" panel with an explanation (the bundled model has none yet, so the e2e sees the other branch). */
describe('the explanation panel', () => {
  const explanation: Explanation = {
    server: 'ppdb001',
    model: { name: 'tft', version: '2' },
    time: '2026-01-01T12:00:00.000Z',
    explanation: {
      risk: 0.72,
      failureMode: 'memory',
      variables: [
        { name: 'memory_percent:slope', kind: 'observed', importance: 0.41 },
        { name: 'cpu_percent:mean', kind: 'observed', importance: 0.12 },
        { name: 'hour_sin', kind: 'known', importance: 0.6 },
        { name: 'profile', kind: 'static', importance: 1 },
      ],
      attention: {
        times: ['2026-01-01T11:00:00.000Z', '2026-01-01T11:30:00.000Z', '2026-01-01T12:00:00.000Z'],
        weights: [0.2, 0.7, 0.1],
      },
      drivers: [
        'memory_percent rose 12 points over the last 6 h and drives this prediction',
        'the hour of day matters',
      ],
    },
    unavailable: null,
  };

  it('writes the drivers in words, in order, and labels both charts for screen readers', () => {
    const html = renderToStaticMarkup(<ExplanationBody explanation={explanation} />);
    expect(html).toMatch(
      /<ol[^>]*data-testid="detail-drivers"[^>]*><li>memory_percent rose 12 points[^<]*<\/li><li>the hour of day matters<\/li><\/ol>/,
    );
    expect(html).toContain(
      'aria-label="Variable importance: memory_percent:slope 41 %, cpu_percent:mean 12 %, hour_sin 60 %, profile 100 %."',
    );
    expect(html).toMatch(/aria-label="Attention over the past window: 3 steps, most at 2026-01-01 \d\d:30:00\."/);
    expect(html).toContain('data-variables="4"');
    expect(html).toContain('tft 2');
  });

  it('says plainly when no driver stands out', () => {
    const html = renderToStaticMarkup(
      <ExplanationBody explanation={{ ...explanation, explanation: { ...explanation.explanation!, drivers: [] } }} />,
    );
    expect(html).toContain('The model names no single driver');
    expect(html).not.toContain('detail-drivers');
  });
});

describe('the upstream line', () => {
  const prediction: ServerPrediction = {
    server: 'ppweb001',
    profile: 'web_api',
    risk: 0.31,
    failureMode: 'dependency',
    failureModes: { none: 0.3, dependency: 0.7 },
    knownServer: true,
    coverage: 1,
    forecast: [],
    upstream: { server: 'ppdb003', risk: 0.64, modelRisk: 0.12, coefficient: 0.31 },
  };

  it("shows the upstream's risk, this server's alone and with it, linking to the upstream", () => {
    const html = renderToStaticMarkup(<UpstreamNote prediction={prediction} />);
    expect(html).toContain('data-testid="detail-upstream"');
    expect(html.replace(/<[^>]+>/g, '')).toBe('Upstream ppdb003 64 % → this server 12 % alone, 31 % with it');
    expect(html).toContain('href="#/servers/ppdb003"');
    expect(html).toContain('31 % of upstream incidents did in training');
  });

  it('shows nothing without an upstream', () => {
    const { upstream: _, ...alone } = prediction;
    expect(renderToStaticMarkup(<UpstreamNote prediction={alone} />)).toBe('');
  });
});
