import { bestColumn, comparisonColumns, FIGURE_ROWS, formatFigure } from './models-format';
import type { ModelEvaluation } from '@shared/domain';

/**
 * Evaluation figures side by side: the models given, then the baselines, on the evaluation fleet
 * of unseen servers. The best figure of each row is marked. Shared by the Models and Training views.
 */
export function EvaluationTable({
  models,
  testId,
}: {
  models: { label: string; evaluation: ModelEvaluation | null }[];
  testId?: string;
}) {
  const columns = comparisonColumns(models);
  const fleet = models.find((m) => m.evaluation)?.evaluation?.fleet;
  return (
    <div className="models-eval" data-testid={testId}>
      <div className="models-eval-scroll">
        <table className="table models-eval-table">
          <thead>
            <tr>
              <th scope="col">Figure</th>
              {columns.map((c, i) => (
                <th scope="col" key={`${c.label}-${i}`} className={c.kind === 'model' ? 'num models-eval-model' : 'num models-eval-baseline'}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {FIGURE_ROWS.map((row) => {
              const best = bestColumn(columns, row);
              return (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  {columns.map((c, i) => (
                    <td
                      key={`${c.label}-${i}`}
                      className={i === best ? 'num models-eval-best' : 'num'}
                      data-testid={c.kind === 'model' ? `eval-${i}-${row.key}` : undefined}
                    >
                      {c.figures ? formatFigure(c.figures[row.key], row.digits) : 'not evaluated'}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {fleet && (
        <p className="small muted">
          Evaluation fleet: {fleet.servers} unseen servers × {fleet.days} days, {fleet.incidents} incidents scored,{' '}
          {fleet.points.toLocaleString('en-US')} points. Alert thresholds chosen on a separate validation fleet (at most one false
          alarm per server-week). Best figure of each row in bold.
        </p>
      )}
    </div>
  );
}
