import type { ReactNode } from 'react';

export function Panel({
  title,
  aside,
  children,
  className,
  testId,
}: {
  title: string;
  aside?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={className ? `panel ${className}` : 'panel'} data-testid={testId}>
      <header className="panel-header">
        <h2 className="panel-title">{title}</h2>
        {aside && <div className="panel-aside">{aside}</div>}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

/** One figure in the KPI strip. `value` null shows a dash, never a fake zero. */
export function Stat({
  label,
  value,
  hint,
  testId,
  tone,
}: {
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  testId: string;
  /** Colours the figure by a risk colour (the palette setting's). */
  tone?: 'healthy' | 'warning' | 'critical';
}) {
  return (
    <div className={tone ? `stat stat-tone-${tone}` : 'stat'}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>
        {value ?? '—'}
      </div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}
