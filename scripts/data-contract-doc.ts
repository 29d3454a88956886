import { DEFAULT_PROFILE_RULES, METRICS, PROFILES, SERVER_STATES } from '../src/shared/contract/metrics';

/**
 * The tables of docs/data-contract.md, rendered from the contract itself. The test beside this
 * file fails when the document and the code disagree; `npm run docs:contract` prints them for
 * pasting.
 */
export function metricTable(): string {
  const fmt = (v: number | null): string => (v === null ? '—' : String(v));
  const rows = METRICS.map(
    (m) => `| \`${m.name}\` | ${m.unit} | ${m.description} | ${fmt(m.min)} .. ${fmt(m.max)} | ${fmt(m.warning)} | ${fmt(m.critical)} |`,
  );
  return ['| metric | unit | meaning | valid range | warning | critical |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

export function profileTable(): string {
  const rows = PROFILES.map((p) => {
    const prefixes = DEFAULT_PROFILE_RULES.filter((r) => r.profile === p).map((r) => `\`${r.prefix}\``);
    return `| \`${p}\` | ${prefixes.length ? prefixes.join(', ') : '(anything else)'} |`;
  });
  return ['| profile | name prefixes |', '|---|---|', ...rows].join('\n');
}

export function stateList(): string {
  return SERVER_STATES.map((s) => `\`${s}\``).join(', ');
}
