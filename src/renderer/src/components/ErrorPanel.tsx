import type { ApiError } from '@shared/contract';
import { Icon } from './Icon';

/** An API error as it is: what failed, the contract code, the message, and every field issue. */
export function ErrorPanel({ title, error, onRetry }: { title: string; error: ApiError; onRetry?: () => void }) {
  return (
    <div className="error-panel" role="alert" data-testid="api-error" data-code={error.code}>
      <Icon name="alert-triangle" className="error-icon" />
      <div className="error-body">
        <p className="error-title">
          {title} <code className="error-code">{error.code}</code>
        </p>
        <p className="error-message">{error.message}</p>
        {error.issues && error.issues.length > 0 && (
          <ul className="error-issues">
            {error.issues.map((issue, i) => (
              <li key={`${issue.path}-${i}`}>
                <code>{issue.path}</code>: {issue.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry}>
          <Icon name="refresh" size={14} /> Retry
        </button>
      )}
    </div>
  );
}
