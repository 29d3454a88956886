import { describe, expect, it } from 'vitest';
import { formatAge, formatAgo, formatClock, formatDuration } from './format';

describe('formatDuration', () => {
  it('shows at most two units', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(59.9)).toBe('59 s');
    expect(formatDuration(61)).toBe('1 m 01 s');
    expect(formatDuration(3600 + 5 * 60 + 9)).toBe('1 h 05 m');
    expect(formatDuration(3 * 86_400 + 4 * 3600 + 59)).toBe('3 d 4 h');
  });

  it('refuses nonsense', () => {
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('formatAgo', () => {
  it('says just now under a second', () => {
    expect(formatAgo(400)).toBe('just now');
    expect(formatAgo(12_300)).toBe('12 s ago');
  });
});

describe('formatAge', () => {
  it('speaks in minutes, hours, days', () => {
    expect(formatAge(0)).toBe('just now');
    expect(formatAge(-5_000)).toBe('just now');
    expect(formatAge(59_999)).toBe('just now');
    expect(formatAge(2 * 60_000 + 30_000)).toBe('2 min ago');
    expect(formatAge(59 * 60_000)).toBe('59 min ago');
    expect(formatAge(3 * 3_600_000 + 59 * 60_000)).toBe('3 h ago');
    expect(formatAge(50 * 3_600_000)).toBe('2 d ago');
    expect(formatAge(Number.NaN)).toBe('—');
  });
});

describe('formatClock', () => {
  it('is HH:MM on the same day, with the date otherwise', () => {
    const ref = new Date(2026, 10, 26, 9, 0).getTime();
    expect(formatClock(new Date(2026, 10, 26, 14, 35).getTime(), ref)).toBe('14:35');
    expect(formatClock(new Date(2026, 10, 28, 7, 5).getTime(), ref)).toBe('2026-11-28 07:05');
    expect(formatClock(Number.NaN, ref)).toBe('—');
  });
});
