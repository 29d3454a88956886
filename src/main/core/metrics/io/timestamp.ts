import { STEP_MS } from '@shared/contract';

/**
 * Timestamp rules for every imported file (docs/data-contract.md repeats them):
 *
 * - ISO 8601 `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (`T`, `t` or a space between
 *   date and time, as NAB and pandas write it), with an optional `Z` or `±HH[:MM]` offset.
 *   No offset means UTC, never the machine's local zone: a file must read the same on every
 *   machine, and metric exporters (CloudWatch, Prometheus, pandas) write UTC.
 * - A bare number is epoch time: below 1e11 it is seconds, otherwise milliseconds. 1e11 s is
 *   the year 5138 and 1e11 ms is March 1973, so the only misread values are millisecond
 *   timestamps from before March 1973, which no metrics file holds.
 * - Accepted range: 1970-01-01 to 9999-12-31 UTC.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:\s*(Z|z|[+-]\d{2}(?::?\d{2})?))?)?$/;
const EPOCH = /^\d+(?:\.\d+)?$/;

/** 9999-12-31T23:59:59.999Z. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;
/** Epoch values below this are seconds, at or above it milliseconds. */
export const EPOCH_SECONDS_LIMIT = 1e11;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Epoch milliseconds for a timestamp field, or a sentence saying why it is not one. Returning
 * the reason (rather than throwing) keeps the per-row loop of a large import cheap.
 */
export function parseTimestamp(text: string): number | string {
  if (EPOCH.test(text)) {
    const n = Number(text);
    return fromEpochNumber(n, text);
  }
  const m = ISO.exec(text);
  if (!m) return `"${text}" is not a timestamp (use ISO 8601 such as 2024-05-01T12:00:00Z, "2024-05-01 12:00:00", or epoch seconds or milliseconds)`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12) return `"${text}" has month ${m[2]}, outside 01..12`;
  if (day < 1 || day > daysInMonth(year, month)) return `"${text}" has day ${m[3]}, which ${m[1]}-${m[2]} does not have`;
  if (hour > 23) return `"${text}" has hour ${m[4]}, outside 00..23`;
  if (minute > 59) return `"${text}" has minute ${m[5]}, outside 00..59`;
  if (second > 59) return `"${text}" has second ${m[6]}, outside 00..59 (leap seconds are not accepted)`;
  let offsetMs = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return `"${text}" has UTC offset ${zone}, which is not an offset`;
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  // Date.UTC maps years 0..99 to 19xx; the range check below refuses them anyway.
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + fraction - offsetMs;
  return checkRange(ms, text);
}

function fromEpochNumber(n: number, text: string): number | string {
  const ms = n < EPOCH_SECONDS_LIMIT ? n * 1000 : n;
  return checkRange(ms, text);
}

function checkRange(ms: number, text: string): number | string {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMESTAMP_MS) return `"${text}" is outside 1970-01-01..9999-12-31 UTC`;
  return ms;
}

/**
 * The grid point a sample belongs to: the nearest 5-minute mark, a sample exactly half-way going
 * to the later one. Real exports sit on the grid or at a constant phase from it (NAB's CloudWatch
 * files: on the mark, or 2 or 4 minutes past it), so the nearest mark moves no sample more than
 * 150 s and keeps consecutive samples on consecutive marks. Two samples that still land on one
 * mark are duplicates: identical ones collapse, different ones are refused (see `dedupe`).
 */
export function snapToGrid(ms: number): number {
  return Math.floor((ms + STEP_MS / 2) / STEP_MS) * STEP_MS;
}

export function isOnGrid(ms: number): boolean {
  return ms % STEP_MS === 0;
}

/** ISO form for messages; falls back to the raw number where Date cannot show it. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
