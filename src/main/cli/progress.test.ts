import { describe, expect, it } from 'vitest';
import { createProgressBar, formatCount, formatDuration } from './progress';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('createProgressBar', () => {
  it('prints one line per 10% when not on a terminal, with rate and ETA', () => {
    let t = 0;
    const stream = fakeStream(false);
    const bar = createProgressBar({ label: 'generate', total: 100, unit: 'steps', stream, now: () => t });
    for (let i = 1; i <= 100; i++) {
      t += 10; // 10 ms per step: 100 steps/s
      bar.update(i);
    }
    bar.done();
    const lines = stream.text.trim().split('\n');
    // The first update, then every tenth, then the closing line.
    expect(lines).toHaveLength(12);
    expect(lines[1]).toContain(' 10%');
    expect(lines[5]).toMatch(/50% 50\/100 steps · 100\/s · ETA 0\.5 s/);
    expect(lines.at(-1)).toBe('generate done in 1.0 s');
  });

  it('redraws in place on a terminal', () => {
    let t = 0;
    const stream = fakeStream(true);
    const bar = createProgressBar({ label: 'x', total: 10, stream, now: () => (t += 100) });
    bar.update(5);
    bar.update(10);
    bar.done('all done');
    expect(stream.text.split('\r').length).toBe(4);
    expect(stream.text.endsWith('all done\u001b[K\n')).toBe(true);
  });
});

describe('formatting', () => {
  it.each([
    [5, '5'],
    [12_345, '12.3k'],
    [2_500_000, '2.5M'],
  ])('formatCount(%d) = %s', (n, s) => expect(formatCount(n)).toBe(s));
  it.each([
    [3.21, '3.2 s'],
    [42, '42 s'],
    [125, '2 min 5 s'],
    [7_200, '2 h 0 min'],
    [Infinity, '?'],
  ])('formatDuration(%d) = %s', (n, s) => expect(formatDuration(n)).toBe(s));
});
