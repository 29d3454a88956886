import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration } from './format';

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
