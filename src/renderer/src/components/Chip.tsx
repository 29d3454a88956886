import type { ReactNode } from 'react';

/** A toggle chip (filters, sort orders): a button that says whether it is pressed. */
export function Chip({
  pressed,
  onClick,
  testId,
  children,
}: {
  pressed: boolean;
  onClick: () => void;
  testId: string;
  children: ReactNode;
}) {
  return (
    <button type="button" className="chip" aria-pressed={pressed} onClick={onClick} data-testid={testId}>
      {children}
    </button>
  );
}
