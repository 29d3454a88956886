import { describe, expect, it } from 'vitest';
import { visibleRange } from './use-row-window';

describe('visibleRange', () => {
  it('covers the viewport plus overscan, clamped to the list', () => {
    expect(visibleRange(0, 290, 1000, 29, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(2900, 290, 1000, 29, 5)).toEqual({ start: 95, end: 115 });
    expect(visibleRange(29_000, 290, 1000, 29, 5)).toEqual({ start: 995, end: 1000 });
    // Scrolled past the end of a list that just shrank: an empty slice, until the scroller clamps.
    expect(visibleRange(1e6, 290, 20, 29, 5)).toEqual({ start: 20, end: 20 });
  });

  it('survives nonsense', () => {
    expect(visibleRange(-50, 290, 1000, 29, 0)).toEqual({ start: 0, end: 10 });
    expect(visibleRange(0, 290, 0, 29, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 290, 10, 0, 5)).toEqual({ start: 0, end: 0 });
  });
});
