import type { ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

export interface EmptyStateProps {
  /** For the test id: `empty-<id>`. */
  id: string;
  icon: IconName;
  title: string;
  /** What will appear here. */
  children: ReactNode;
  /** What brings it: the data or step the view is waiting for. */
  needs: ReactNode;
}

/** A view with nothing to show yet says what it will show and what it is waiting for. */
export function EmptyState({ id, icon, title, children, needs }: EmptyStateProps) {
  return (
    <div className="empty" data-testid={`empty-${id}`}>
      <div className="empty-icon" aria-hidden="true">
        <Icon name={icon} size={22} />
      </div>
      <div className="empty-text">
        <h2 className="empty-title">{title}</h2>
        <div className="empty-body">{children}</div>
        <p className="empty-needs">
          <span className="empty-needs-label">What brings it</span>
          {needs}
        </p>
      </div>
    </div>
  );
}
