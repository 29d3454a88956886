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
