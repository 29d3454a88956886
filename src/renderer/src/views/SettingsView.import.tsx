import { useCallback, useRef, useState, type DragEvent } from 'react';
import { ApiError, METRIC_NAMES, type MetricName } from '@shared/contract';
import type { ImportReport, UploadInfo } from '@shared/domain';
import { useApi } from '../api/use-api';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { hrefFor } from '../routing/routes';
import { formatBytes, IMPORT_ACCEPT, rejectedByReason, reportSummary, uploadFile } from './SettingsView.import.model';
import './SettingsView.import.css';

type Phase = 'uploading' | 'checking' | 'checked' | 'importing' | 'imported' | 'discarded' | 'failed';

interface Item {
  key: number;
  name: string;
  size: number;
  phase: Phase;
  sent: number;
  upload: UploadInfo | null;
  report: ImportReport | null;
  error: ApiError | null;
  /** For a single-series timestamp,value CSV. */
  server: string;
  metric: MetricName | '';
}

const asApiError = (e: unknown): ApiError =>
  e instanceof ApiError ? e : new ApiError('internal', e instanceof Error ? e.message : String(e));

/**
 * Import files (issue 9): drop or choose CSV, Parquet or Arrow files; each is uploaded, checked
 * by the core without writing anything (rows, servers, metrics, time range, rejected rows with
 * reasons), then imported all-or-nothing or discarded. Imported servers join the fleet.
 */
export function ImportPanel() {
  const client = useApi();
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const nextKey = useRef(1);
  const input = useRef<HTMLInputElement>(null);

  const patch = useCallback((key: number, change: Partial<Item>) => {
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const check = useCallback(
    async (key: number, upload: UploadInfo, server: string, metric: MetricName | '') => {
      patch(key, { phase: 'checking', error: null });
      try {
        const series = server && metric ? { server, metric } : {};
        const report = await client.call('import.check', { uploadId: upload.uploadId, ...series });
        patch(key, { phase: 'checked', report });
      } catch (e) {
        patch(key, { phase: 'failed', report: null, error: asApiError(e) });
      }
    },
    [client, patch],
  );

  const add = useCallback(
    (files: FileList | File[]) => {
      for (const file of Array.from(files)) {
        const key = nextKey.current++;
        const item: Item = {
          key,
          name: file.name,
          size: file.size,
          phase: 'uploading',
          sent: 0,
          upload: null,
          report: null,
          error: null,
          server: '',
          metric: '',
        };
        setItems((list) => [...list, item]);
        void (async () => {
          try {
            const upload = await uploadFile(client, file, (sent) => patch(key, { sent }));
            patch(key, { upload, sent: file.size });
            await check(key, upload, '', '');
          } catch (e) {
            patch(key, { phase: 'failed', error: asApiError(e) });
          }
        })();
      }
    },
    [client, patch, check],
  );

  const commit = async (item: Item): Promise<void> => {
    if (!item.upload) return;
    patch(item.key, { phase: 'importing', error: null });
    try {
      const series = item.server && item.metric ? { server: item.server, metric: item.metric } : {};
      const report = await client.call('import.commit', { uploadId: item.upload.uploadId, ...series });
      patch(item.key, { phase: 'imported', report });
    } catch (e) {
      patch(item.key, { phase: 'failed', error: asApiError(e) });
    }
  };

  const discard = async (item: Item): Promise<void> => {
    if (item.upload) {
      try {
        await client.call('import.discard', { uploadId: item.upload.uploadId });
      } catch {
        // Already gone (expired): nothing to discard.
      }
    }
    patch(item.key, { phase: 'discarded' });
  };

  const onDrop = (event: DragEvent): void => {
    event.preventDefault();
    setDragging(false);
    if (event.dataTransfer.files.length > 0) add(event.dataTransfer.files);
  };

  const visible = items.filter((i) => i.phase !== 'discarded');
  return (
    <Panel title="Import files" testId="settings-import" className="settings-wide">
      <div
        className={dragging ? 'import-drop import-drop-active' : 'import-drop'}
        data-testid="import-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          Drop CSV, Parquet or Arrow files here, or{' '}
          <button type="button" className="import-choose" onClick={() => input.current?.click()}>
            choose files
          </button>
          . Each file is checked first; nothing is written until you import it.
        </p>
        <input
          ref={input}
          type="file"
          multiple
          accept={IMPORT_ACCEPT}
          hidden
          data-testid="import-input"
          onChange={(e) => {
            if (e.target.files) add(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      {visible.map((item) => (
        <ImportItem
          key={item.key}
          item={item}
          onCommit={() => void commit(item)}
          onDiscard={() => void discard(item)}
          onSeries={(server, metric) => patch(item.key, { server, metric })}
          onRecheck={() => item.upload && void check(item.key, item.upload, item.server, item.metric)}
        />
      ))}
    </Panel>
  );
}

function ImportItem({
  item,
  onCommit,
  onDiscard,
  onSeries,
  onRecheck,
}: {
  item: Item;
  onCommit: () => void;
  onDiscard: () => void;
  onSeries: (server: string, metric: MetricName | '') => void;
  onRecheck: () => void;
}) {
  const { report } = item;
  const busy = item.phase === 'uploading' || item.phase === 'checking' || item.phase === 'importing';
  const pct = item.size > 0 ? Math.round((100 * item.sent) / item.size) : 100;
  return (
    <article className="import-item" data-testid="import-item" data-phase={item.phase}>
      <header className="import-item-header">
        <span className="import-file">{item.name}</span>
        <span className="muted small">{formatBytes(item.size)}</span>
        <span className="import-phase" data-testid="import-phase">
          {item.phase === 'uploading'
            ? `Uploading ${pct}%`
            : item.phase === 'checking'
              ? 'Checking…'
              : item.phase === 'checked'
                ? 'Checked: nothing written yet'
                : item.phase === 'importing'
                  ? 'Importing…'
                  : item.phase === 'imported'
                    ? 'Imported'
                    : 'Not imported'}
        </span>
      </header>
      {item.phase === 'uploading' && <progress className="import-progress" max={100} value={pct} />}
      {item.error && <ErrorPanel title={`${item.name} cannot be imported`} error={item.error} />}
      {item.error?.issues && item.error.issues.length > 1 && (
        <ul className="import-issues" data-testid="import-issues">
          {item.error.issues.map((issue, i) => (
            <li key={i} className="mono small">
              {issue.message}
            </li>
          ))}
        </ul>
      )}
      {item.error && item.upload && item.phase === 'failed' && (
        <form
          className="import-series"
          onSubmit={(e) => {
            e.preventDefault();
            onRecheck();
          }}
        >
          <span className="muted small">A single-series file (timestamp,value) needs its server and metric:</span>
          <input
            aria-label="Server"
            placeholder="server"
            value={item.server}
            onChange={(e) => onSeries(e.target.value, item.metric)}
            data-testid="import-series-server"
          />
          <select
            aria-label="Metric"
            value={item.metric}
            onChange={(e) => onSeries(item.server, e.target.value as MetricName | '')}
            data-testid="import-series-metric"
          >
            <option value="">metric…</option>
            {METRIC_NAMES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!item.server || !item.metric}>
            Check again
          </button>
        </form>
      )}
      {report && (
        <div className="import-report" data-testid="import-report">
          <dl className="import-figures">
            {reportSummary(report).map((f) => (
              <div key={f.label} className={f.label === 'Metrics' ? 'import-figure-wide' : undefined}>
                <dt>{f.label}</dt>
                <dd data-testid={`import-figure-${f.label.toLowerCase().replace(/\s+/g, '-')}`}>{f.value}</dd>
              </div>
            ))}
          </dl>
          {rejectedByReason(report).length > 0 && (
            <div className="import-rejections">
              <p>Rejected rows: {rejectedByReason(report).join(', ')}. The first ones:</p>
              <ul>
                {report.rejections.map((r) => (
                  <li key={`${r.row}-${r.field}`} className="mono small">
                    {r.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {report.servers.names.length > 0 && (
            <p className="small">
              Servers:{' '}
              {report.servers.names.slice(0, 12).map((s, i) => (
                <span key={s.name}>
                  {i > 0 && ', '}
                  {item.phase === 'imported' ? <a href={hrefFor('servers', s.name)}>{s.name}</a> : s.name}
                  {s.new && <span className="import-new"> new</span>}
                </span>
              ))}
              {report.servers.total > 12 && ` and ${report.servers.total - 12} more`}
            </p>
          )}
        </div>
      )}
      <div className="import-actions">
        {item.phase === 'checked' && (
          <button
            type="button"
            className="import-commit"
            onClick={onCommit}
            disabled={busy || report?.accepted === 0}
            data-testid="import-commit"
          >
            Import
          </button>
        )}
        {(item.phase === 'checked' || item.phase === 'failed') && (
          <button type="button" onClick={onDiscard} data-testid="import-discard">
            Discard
          </button>
        )}
        {item.phase === 'imported' && (
          <a href={hrefFor('servers')} data-testid="import-servers-link">
            See the servers
          </a>
        )}
      </div>
    </article>
  );
}
