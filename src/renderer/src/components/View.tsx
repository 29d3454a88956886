import type { ReactNode } from 'react';
import type { RouteId } from '../routing/routes';

/** The frame of every view: its test id, and the heading that navigation moves focus to. */
export function View({
  id,
  title,
  subtitle,
  actions,
  children,
}: {
  id: RouteId;
  title: string;
  subtitle: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="view" data-testid={`view-${id}`} aria-labelledby="view-title">
      <header className="view-header">
        <div>
          <h1 className="view-title" id="view-title" tabIndex={-1}>
            {title}
          </h1>
          <p className="view-subtitle">{subtitle}</p>
        </div>
        {actions && <div className="view-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
