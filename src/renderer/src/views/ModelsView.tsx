import { useState } from 'react';
import type { ApiError } from '@shared/contract';
import type { ModelEntry } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useConnection } from '../api/use-connection';
import { useQuery } from '../api/use-query';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { formatTimestamp } from '../format';
import { EvaluationTable } from './ModelsView.evaluation';
import { describeSettings, ensembleMembers, formatBytes, formatMs, modelLabel, shortSha } from './models-format';
import './ModelsView.css';

export function ModelsView() {
  const client = useApi();
  const { health } = useConnection();
  const list = useQuery('model.list', {}, { refetchOn: ['model.changed'], throttleMs: 300 });
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ title: string; error: ApiError } | null>(null);
  const [compare, setCompare] = useState<string | null>(null);
  const [folder, setFolder] = useState('');
  const [notice, setNotice] = useState<string | null>(null);

  const models = list.data?.models ?? [];
  const active = models.find((m) => m.active) ?? null;
  const compared = models.find((m) => m.id === compare && !m.active) ?? models.find((m) => !m.active && m.evaluation) ?? null;

  const act = (title: string, id: string, call: () => Promise<unknown>, done?: (result: unknown) => void): void => {
    setBusy(id);
    setActionError(null);
    setNotice(null);
    call().then(
      (result) => {
        setBusy(null);
        done?.(result);
        list.refetch();
      },
      (error: unknown) => {
        setBusy(null);
        setActionError({ title, error: error as ApiError });
        list.refetch();
      },
    );
  };

  const provider = health?.model?.executionProvider;
  return (
    <View
      id="models"
      title="Models"
      subtitle="The models this console can predict with, and which one is active."
      actions={
        <span className="muted" data-testid="models-active">
          Active:{' '}
          {list.data === undefined ? '…' : active ? `${modelLabel(active)}${provider ? ` (${provider.toUpperCase()})` : ''}` : 'no model loaded'}
        </span>
      }
    >
      {list.error && !list.data && <ErrorPanel title="The models could not be listed" error={list.error} onRetry={list.refetch} />}
      {actionError && <ErrorPanel title={actionError.title} error={actionError.error} />}
      {list.data && models.length === 0 && (
        <EmptyState id="models" icon="models" title="No model installed" needs="The bundled default model, shipped with the app, or a finished training run.">
          <p>Train one under Training; it appears here, evaluated against the baselines, ready to activate.</p>
        </EmptyState>
      )}
      {models.length > 0 && (
        <Panel
          title="Installed models"
          testId="models-panel"
          aside={
            <span className="small muted">
              {models.length} model{models.length === 1 ? '' : 's'}
              {list.data?.runningJob ? ' · a training job is running' : ''}
            </span>
          }
        >
          <div className="models-scroll">
            <table className="table models-table" data-testid="models-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Created</th>
                  <th scope="col">Trained on</th>
                  <th scope="col">Settings</th>
                  <th scope="col">Training</th>
                  <th scope="col" className="num">
                    AUROC
                  </th>
                  <th scope="col">sha256</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <ModelRow
                    key={m.id}
                    model={m}
                    busy={busy === m.id}
                    compared={compared?.id === m.id}
                    onActivate={() => act(`${modelLabel(m)} could not be activated`, m.id, () => client.call('model.activate', { name: m.id }))}
                    onDelete={() => {
                      if (typeof window !== 'undefined' && typeof window.confirm === 'function' && !window.confirm(`Delete ${modelLabel(m)}? Its folder is removed.`)) return;
                      act(`${modelLabel(m)} could not be deleted`, m.id, () => client.call('model.delete', { name: m.id }));
                    }}
                    onCompare={() => setCompare(m.id)}
                    onExport={
                      m.ok && folder.trim() !== ''
                        ? () =>
                            act(`${modelLabel(m)} could not be exported`, m.id, () => client.call('model.export', { name: m.id, dir: folder.trim() }), (r) =>
                              setNotice(`Exported to ${(r as { dir: string }).dir}`),
                            )
                        : null
                    }
                  />
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
      <Panel title="Import or export" testId="models-transfer" aside={<span className="small muted">a folder on the machine the core runs on</span>}>
        <div className="models-transfer">
          <label className="models-transfer-field">
            <span className="models-transfer-label">Folder</span>
            <input
              className="input models-transfer-input"
              value={folder}
              placeholder="/path/to/tft_model_… (import) or /path/to/a/folder (export)"
              onChange={(e) => setFolder(e.target.value)}
              data-testid="models-folder"
            />
          </label>
          <button
            type="button"
            className="button"
            disabled={folder.trim() === '' || busy !== null}
            onClick={() => act('The folder could not be imported', 'import', () => client.call('model.import', { dir: folder.trim() }), () => setNotice('Imported: checked and copied into models/'))}
            data-testid="models-import"
          >
            Import model folder
          </button>
        </div>
        <p className="small muted">
          Import checks the folder (checksum, data contract, inputs) and copies it into models/; Export copies a model into this
          folder. {notice && <span data-testid="models-notice">{notice}</span>}
        </p>
      </Panel>
      {active && (
        <Panel title="Evaluation" testId="models-evaluation" aside={<span className="small muted">the active model{compared ? ` and ${modelLabel(compared)}` : ''}, next to the baselines</span>}>
          {active.evaluation || compared?.evaluation ? (
            <EvaluationTable
              models={[
                { label: `${modelLabel(active)} (active)`, evaluation: active.evaluation },
                ...(compared ? [{ label: modelLabel(compared), evaluation: compared.evaluation }] : []),
              ]}
            />
          ) : (
            <p className="small muted">
              No evaluation yet. Every training run evaluates its model and the active one on the same unseen fleet; the figures
              show here.
            </p>
          )}
        </Panel>
      )}
    </View>
  );
}

function ModelRow({
  model: m,
  busy,
  compared,
  onActivate,
  onDelete,
  onCompare,
  onExport,
}: {
  model: ModelEntry;
  busy: boolean;
  compared: boolean;
  onActivate: () => void;
  onDelete: () => void;
  onCompare: () => void;
  /** Null while no export folder is given. */
  onExport: (() => void) | null;
}) {
  return (
    <tr data-testid="model-row" data-model={m.id} data-active={m.active} className={m.active ? 'models-row-active' : undefined}>
      <th scope="row">
        <div className="models-name">
          <span data-testid="model-label">{modelLabel(m)}</span>
          {m.active && (
            <span className="state state-ok" data-testid="model-active-badge">
              active
            </span>
          )}
          {m.source === 'bundled' && <span className="state state-off">bundled</span>}
          {!m.ok && <span className="state state-bad">refused</span>}
        </div>
        <div className="models-sub" title={m.dir}>
          {m.source === 'bundled' ? 'shipped with the app' : m.id}
        </div>
        {m.error && <div className="models-error small">{m.error}</div>}
      </th>
      <td>{m.createdAt ? formatTimestamp(m.createdAt) : '—'}</td>
      <td>
        {m.data ? (
          <>
            <div>{m.data.description}</div>
            <div className="models-sub">
              {m.data.servers} servers · {m.data.windows.train.toLocaleString('en-US')} windows
            </div>
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="models-sub">{describeSettings(m.settings)}</td>
      <td>
        {m.training ? (
          <>
            <div>
              {m.training.backend} · {formatMs(m.training.durationMs)}
            </div>
            <div className="models-sub">
              {Math.round(m.training.samplesPerSecond)} windows/s · {ensembleMembers(m.settings) > 1 ? 'member 1: ' : ''}
              {m.training.epochsRun} epochs (best {m.training.bestEpoch})
            </div>
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="num">{m.evaluation?.methods.model?.auroc?.toFixed(3) ?? '—'}</td>
      <td>
        <code className="models-sha" title={m.sha256 ?? undefined}>
          {shortSha(m.sha256)}
        </code>
        <div className="models-sub">{formatBytes(m.sizeBytes)}</div>
      </td>
      <td className="models-actions">
        {!m.active && m.ok && (
          <button type="button" className="button button-small" disabled={busy} onClick={onActivate} data-testid="model-activate">
            {m.source === 'bundled' ? 'Roll back' : 'Activate'}
          </button>
        )}
        {!m.active && m.evaluation && (
          <button type="button" className="button button-small" aria-pressed={compared} onClick={onCompare}>
            Compare
          </button>
        )}
        {onExport && (
          <button type="button" className="button button-small" disabled={busy} onClick={onExport} data-testid="model-export">
            Export
          </button>
        )}
        {!m.active && m.source === 'models-folder' && (
          <button type="button" className="button button-small models-delete" disabled={busy} onClick={onDelete} data-testid="model-delete">
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}
