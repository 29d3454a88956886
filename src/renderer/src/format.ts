/** Uptime and ages, the ops way: two units at most ("3 d 4 h", "5 m 07 s", "42 s"). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${pad2(m)} m`;
  if (m > 0) return `${m} m ${pad2(sec)} s`;
  return `${sec} s`;
}

/** "just now", "12 s ago", "3 m 05 s ago". */
export function formatAgo(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1000) return 'just now';
  return `${formatDuration(ms / 1000)} ago`;
}

/** An ISO instant as local "YYYY-MM-DD HH:MM:SS" (sortable, unambiguous); the input when unparsable. */
export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
  );
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** How long ago, for "last seen" in tables: "just now", "4 min ago", "3 h ago", "2 d ago". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  // A sample stamped a little after the fleet clock read is not "in the future" to a person.
  if (ms < 60_000) return 'just now';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A clock reading "HH:MM", with the date in front when it is not the day of `reference`. */
export function formatClock(ms: number, reference: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return '—';
  const hhmm = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  const ref = new Date(reference);
  const sameDay =
    date.getFullYear() === ref.getFullYear() && date.getMonth() === ref.getMonth() && date.getDate() === ref.getDate();
  return sameDay ? hhmm : `${formatTimestamp(date.toISOString()).slice(0, 10)} ${hhmm}`;
}
