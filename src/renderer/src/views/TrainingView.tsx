import { useId, useMemo, useState, type Dispatch, type ReactNode, type SetStateAction } from 'react';
import type { ApiError } from '@shared/contract';
import { MODEL_SIZES, type DataCheck, type TrainJob } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useEvent } from '../api/use-event';
import { useQuery } from '../api/use-query';
import { EChart } from '../charts/EChart';
import { baseOption, useChartTheme, valueAxis } from '../charts/chart-theme';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { formatDuration } from '../format';
import { EvaluationTable } from './ModelsView.evaluation';
import { formatMs } from './models-format';
import {
  DEFAULT_FORM,
  STATE_LABELS,
  currentJob,
  dataKey,
  defaultRange,
  formToInput,
  isRunning,
  jobFraction,
  jobMember,
  lossSeries,
  newerJob,
  type WizardForm,
} from './training-model';
import './TrainingView.css';

const SIZE_LABELS: Record<(typeof MODEL_SIZES)[number], string> = {
  small: 'Small (8 hidden, 2 heads): seconds',
  medium: 'Medium (16 hidden, 4 heads)',
  large: 'Large (24 hidden, 4 heads): the bundled model’s size',
};

/**
 * The training wizard: choose data, check it, choose settings, start; then follow the job (it
 * lives in the core, so leaving the view and coming back shows it again), cancel it, and when it
 * ends compare its evaluation with the active model's and activate, keep or discard it.
 */
export function TrainingView() {
  const client = useApi();
  // Events carry every change; the throttled refetch on them is the backstop for a dropped one.
  const jobs = useQuery('model.jobs', {}, { refetchOn: ['model.changed', 'model.progress'], throttleMs: 2_000 });
  const models = useQuery('model.list', {}, { refetchOn: ['model.changed'], throttleMs: 300 });
  const [live, setLive] = useState<TrainJob | null>(null);
  useEvent('model.progress', (job) => setLive((prev) => (prev && prev.id === job.id ? newerJob(prev, job) : job)));

  // The record the view follows: the newest of what the query and the events said about it.
  const fromQuery = currentJob(jobs.data?.jobs ?? []);
  let job = fromQuery;
  if (live) {
    if (!fromQuery || live.id === fromQuery.id) job = newerJob(fromQuery, live);
    else if (isRunning(live) || live.createdAt > fromQuery.createdAt) job = live;
  }

  const [dismissed, setDismissed] = useState<string | null>(null);
  // The wizard's choices outlive the run: they are here, not in the wizard, which hides while a job runs.
  const [form, setForm] = useState<WizardForm>(() => ({ ...DEFAULT_FORM, ...defaultRange(new Date()) }));
  const [check, setCheck] = useState<{ key: string; result: DataCheck } | null>(null);
  const [actionError, setActionError] = useState<{ title: string; error: ApiError } | null>(null);
  const [busy, setBusy] = useState(false);
  const running = job !== null && isRunning(job);
  const showResult = job !== null && !running && job.id !== dismissed;

  const act = (title: string, call: () => Promise<unknown>, after?: () => void): void => {
    setBusy(true);
    setActionError(null);
    call().then(
      () => {
        setBusy(false);
        after?.();
        jobs.refetch();
        models.refetch();
      },
      (error: unknown) => {
        setBusy(false);
        setActionError({ title, error: error as ApiError });
      },
    );
  };

  const activeModel = models.data?.models.find((m) => m.active) ?? null;
  const newModel = job?.model ? (models.data?.models.find((m) => m.id === job.model!.id) ?? null) : null;

  return (
    <View
      id="training"
      title="Training"
      subtitle="Train the Temporal Fusion Transformer on your own metrics or a simulated fleet, on this machine."
      actions={
        <span className="muted" data-testid="training-active-model">
          Active model: {activeModel ? `${activeModel.name ?? activeModel.id} ${activeModel.version ?? ''}` : '…'}
        </span>
      }
    >
      {jobs.error && !jobs.data && <ErrorPanel title="Training jobs could not be read" error={jobs.error} onRetry={jobs.refetch} />}
      {actionError && <ErrorPanel title={actionError.title} error={actionError.error} />}
      {job && running && (
        <JobProgress
          job={job}
          busy={busy}
          onCancel={() => act('The job could not be cancelled', () => client.call('model.cancel', { job: job.id }).then((j) => setLive(j)))}
        />
      )}
      {job && showResult && (
        <JobResult
          job={job}
          busy={busy}
          modelStillThere={newModel !== null}
          isActive={newModel?.active ?? false}
          active={activeModel ? { label: `${activeModel.name ?? ''} ${activeModel.version ?? activeModel.id} (active)`, evaluation: job.activeEvaluation?.evaluation ?? activeModel.evaluation } : null}
          onActivate={() => act('The new model could not be activated', () => client.call('model.activate', { name: job.model!.id }))}
          onKeep={() => setDismissed(job.id)}
          onDiscard={() => act('The new model could not be deleted', () => client.call('model.delete', { name: job.model!.id }), () => setDismissed(job.id))}
          onClose={() => setDismissed(job.id)}
        />
      )}
      {!running && (
        <Wizard
          form={form}
          setForm={setForm}
          check={check}
          setCheck={setCheck}
          onStarted={(started) => {
            setLive(started);
            setDismissed(null);
            jobs.refetch();
          }}
        />
      )}
    </View>
  );
}

function Wizard({
  form,
  setForm,
  check,
  setCheck,
  onStarted,
}: {
  form: WizardForm;
  setForm: Dispatch<SetStateAction<WizardForm>>;
  check: { key: string; result: DataCheck } | null;
  setCheck: (check: { key: string; result: DataCheck } | null) => void;
  onStarted: (job: TrainJob) => void;
}) {
  const client = useApi();
  const ids = useId();
  const [checking, setChecking] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<{ title: string; error: ApiError } | null>(null);
  const parsed = useMemo(() => formToInput(form), [form]);
  const key = dataKey(form);
  const checked = check && check.key === key ? check.result : null;
  const errors = parsed.ok ? {} : parsed.errors;

  const set = <K extends keyof WizardForm>(field: K, value: WizardForm[K]): void => setForm((f) => ({ ...f, [field]: value }));

  const runCheck = (): void => {
    if (!parsed.ok) return;
    setChecking(true);
    setError(null);
    client.call('model.check', { data: parsed.input.data }).then(
      (result) => {
        setChecking(false);
        setCheck({ key, result });
      },
      (e: unknown) => {
        setChecking(false);
        setError({ title: 'The data could not be checked', error: e as ApiError });
      },
    );
  };
  const start = (): void => {
    if (!parsed.ok) return;
    setStarting(true);
    setError(null);
    client.call('model.train', parsed.input).then(
      (job) => {
        setStarting(false);
        onStarted(job);
      },
      (e: unknown) => {
        setStarting(false);
        setError({ title: 'Training could not start', error: e as ApiError });
      },
    );
  };

  const field = (name: keyof WizardForm, label: string, input: ReactNode, hint?: string): ReactNode => (
    <label className="training-field">
      <span className="training-label">{label}</span>
      {input}
      {errors[name] ? (
        <span className="training-field-error" role="alert">
          {errors[name]}
        </span>
      ) : (
        hint && <span className="training-hint">{hint}</span>
      )}
    </label>
  );
  const numberInput = (name: keyof WizardForm, min: number, max: number): ReactNode => (
    <input
      className="input training-number"
      type="number"
      min={min}
      max={max}
      value={String(form[name])}
      aria-invalid={errors[name] ? true : undefined}
      data-testid={`training-${name}`}
      onChange={(e) => set(name, e.target.value as never)}
    />
  );

  return (
    <div className="training-wizard">
      {error && <ErrorPanel title={error.title} error={error.error} />}
      <Panel title="1 · Data" testId="training-data">
        <div className="training-kinds" role="radiogroup" aria-labelledby={`${ids}-kind`}>
          <span id={`${ids}-kind`} className="visually-hidden">
            Training data
          </span>
          <label className="training-kind">
            <input type="radio" name={`${ids}-kind`} checked={form.kind === 'simulated'} onChange={() => set('kind', 'simulated')} data-testid="training-kind-simulated" />
            Simulated fleet
          </label>
          <label className="training-kind">
            <input type="radio" name={`${ids}-kind`} checked={form.kind === 'store'} onChange={() => set('kind', 'store')} data-testid="training-kind-store" />
            The store’s metrics, a time range
          </label>
        </div>
        {form.kind === 'simulated' ? (
          <div className="training-fields">
            {field('servers', 'Servers', numberInput('servers', 1, 200), 'named like the seed’s fleet, every profile')}
            {field('days', 'Days', numberInput('days', 2, 60))}
            {field('seed', 'Seed', <input className="input" value={form.seed} data-testid="training-seed" onChange={(e) => set('seed', e.target.value)} />, 'same seed, same data')}
          </div>
        ) : (
          <div className="training-fields">
            {field('from', 'From', <input className="input" type="datetime-local" value={form.from} data-testid="training-from" onChange={(e) => set('from', e.target.value)} />)}
            {field('to', 'To', <input className="input" type="datetime-local" value={form.to} data-testid="training-to" onChange={(e) => set('to', e.target.value)} />, 'the incidents the store recorded label the data')}
          </div>
        )}
        <div className="training-row">
          <button type="button" className="button" onClick={runCheck} disabled={!parsed.ok || checking} data-testid="training-check">
            {checking ? 'Checking…' : 'Check data'}
          </button>
          {!checked && <span className="small muted">Check the data before training: nothing starts until it passes.</span>}
        </div>
        {checked && <CheckResult check={checked} />}
      </Panel>

      <Panel title="2 · Settings" testId="training-settings">
        <div className="training-fields">
          {field('epochs', 'Epochs (at most)', numberInput('epochs', 1, 200))}
          {field('patience', 'Early stopping', numberInput('patience', 0, 50), 'epochs without a better validation loss; 0 = never')}
          {field(
            'size',
            'Model size',
            <select className="input" value={form.size} data-testid="training-size" onChange={(e) => set('size', e.target.value as WizardForm['size'])}>
              {MODEL_SIZES.map((s) => (
                <option key={s} value={s}>
                  {SIZE_LABELS[s]}
                </option>
              ))}
            </select>,
          )}
          {field('members', 'Members', numberInput('members', 1, 5), 'TFTs averaged into one model; each one more run')}
          {field('batchSize', 'Batch size', numberInput('batchSize', 1, 1024))}
          {field('maxWindowsPerEpoch', 'Windows per epoch', numberInput('maxWindowsPerEpoch', 8, 100_000), 'a seeded random subset each epoch')}
        </div>
        <div className="training-fields">
          <label className="training-check-box">
            <input type="checkbox" checked={form.evaluate} onChange={(e) => set('evaluate', e.target.checked)} data-testid="training-evaluate" />
            Evaluate against the active model and the baselines when training ends
          </label>
          {form.evaluate && field('evaluationServers', 'Evaluation servers', numberInput('evaluationServers', 1, 50), 'unseen servers, other seeds')}
          {form.evaluate && field('evaluationDays', 'Evaluation days', numberInput('evaluationDays', 2, 30))}
        </div>
        <p className="small muted">
          Context 24 h and horizon 8 h on a 30-minute grid: the feature layout the prediction loop serves.
        </p>
      </Panel>

      <div className="training-row">
        <button
          type="button"
          className="button training-start"
          onClick={start}
          disabled={!parsed.ok || !checked?.ok || starting}
          data-testid="training-start"
        >
          {starting ? 'Starting…' : 'Start training'}
        </button>
        {checked && !checked.ok && <span className="small training-field-error">The data check found problems: training cannot start.</span>}
      </div>
    </div>
  );
}

function CheckResult({ check }: { check: DataCheck }) {
  const profiles = Object.entries(check.profiles);
  return (
    <div className={check.ok ? 'training-checked' : 'training-checked training-checked-bad'} data-testid="training-check-result" data-ok={check.ok}>
      <dl className="training-facts">
        <div>
          <dt>Servers</dt>
          <dd data-testid="check-servers">{check.servers}</dd>
        </div>
        <div>
          <dt>Profiles</dt>
          <dd>{profiles.length > 0 ? profiles.map(([p, n]) => `${p} ${n}`).join(', ') : '—'}</dd>
        </div>
        <div>
          <dt>Covers</dt>
          <dd>{check.hours > 0 ? `${formatDuration(check.hours * 3600)} (${check.rows.toLocaleString('en-US')} samples)` : '—'}</dd>
        </div>
        <div>
          <dt>Coverage</dt>
          <dd>{Math.round(check.coverage * 100)} %</dd>
        </div>
        <div>
          <dt>Gaps</dt>
          <dd>{check.gaps}</dd>
        </div>
        <div>
          <dt>Incidents</dt>
          <dd data-testid="check-incidents">{check.incidents}</dd>
        </div>
      </dl>
      {check.problems.map((p) => (
        <p key={p} className="training-field-error small">
          {p}
        </p>
      ))}
      {check.warnings.map((w) => (
        <p key={w} className="small training-warning">
          {w}
        </p>
      ))}
      {check.ok && <p className="small training-ok">Ready to train.</p>}
    </div>
  );
}

function JobProgress({ job, busy, onCancel }: { job: TrainJob; busy: boolean; onCancel: () => void }) {
  const theme = useChartTheme();
  const p = job.progress;
  const fraction = jobFraction(job);
  const { member, members } = jobMember(job);
  const series = lossSeries(job);
  const option = {
    ...baseOption(theme),
    animation: false,
    grid: { left: 48, right: 16, top: 28, bottom: 32 },
    legend: { top: 0, textStyle: { color: theme.muted } },
    tooltip: { ...baseOption(theme).tooltip, trigger: 'axis' },
    xAxis: valueAxis(theme, {
      name: members > 1 ? 'epoch (members one after another)' : 'epoch',
      nameLocation: 'middle',
      nameGap: 22,
      min: 0,
      max: job.settings.epochs * members,
      splitLine: { show: false },
    }),
    yAxis: valueAxis(theme, { scale: true }),
    series: [
      { name: 'train loss', type: 'line', data: series.train, showSymbol: true, lineStyle: { color: theme.accent }, itemStyle: { color: theme.accent } },
      { name: 'validation loss', type: 'line', data: series.validation, showSymbol: true, lineStyle: { color: theme.warning }, itemStyle: { color: theme.warning } },
    ],
  };
  return (
    <Panel
      title="Training job"
      testId="training-job"
      aside={
        <span className="state state-work" data-testid="training-state" data-state={job.state}>
          {STATE_LABELS[job.state]}
        </span>
      }
    >
      <div className="training-progress-head">
        <div className="training-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)} aria-label="Training progress">
          <div className="training-bar-fill" style={{ width: `${Math.round(fraction * 100)}%` }} />
        </div>
        <button type="button" className="button training-cancel" onClick={onCancel} disabled={busy} data-testid="training-cancel">
          Cancel
        </button>
      </div>
      <p className="small muted" data-testid="training-detail">
        {job.detail}
      </p>
      <dl className="training-facts">
        {members > 1 && (
          <div>
            <dt>Member</dt>
            <dd data-testid="training-member">{`member ${member} of ${members}`}</dd>
          </div>
        )}
        <div>
          <dt>Epoch</dt>
          <dd data-testid="training-epoch">{p ? `${p.epoch} / ${p.epochs}` : '—'}</dd>
        </div>
        <div>
          <dt>Train loss</dt>
          <dd>{p && p.trainLoss !== null ? p.trainLoss.toFixed(4) : '—'}</dd>
        </div>
        <div>
          <dt>Validation loss</dt>
          <dd>{p && p.validationLoss !== null ? p.validationLoss.toFixed(4) : '—'}</dd>
        </div>
        <div>
          <dt>Samples/s</dt>
          <dd data-testid="training-rate">{p ? Math.round(p.samplesPerSec).toLocaleString('en-US') : '—'}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="training-eta">{p && p.etaSeconds !== null && job.state === 'training' ? formatDuration(p.etaSeconds) : '—'}</dd>
        </div>
        <div>
          <dt>Backend</dt>
          <dd data-testid="training-backend">{p?.backend ?? '—'}</dd>
        </div>
      </dl>
      <EChart option={option} label="Training and validation loss by epoch" className="training-chart" notMerge={false} />
    </Panel>
  );
}

function JobResult({
  job,
  busy,
  modelStillThere,
  isActive,
  active,
  onActivate,
  onKeep,
  onDiscard,
  onClose,
}: {
  job: TrainJob;
  busy: boolean;
  modelStillThere: boolean;
  isActive: boolean;
  active: { label: string; evaluation: TrainJob['evaluation'] } | null;
  onActivate: () => void;
  onKeep: () => void;
  onDiscard: () => void;
  onClose: () => void;
}) {
  const tone = job.state === 'finished' ? 'state-ok' : job.state === 'failed' ? 'state-bad' : 'state-off';
  return (
    <Panel
      title="Last training job"
      testId="training-result"
      aside={
        <span className={`state ${tone}`} data-testid="training-state" data-state={job.state}>
          {STATE_LABELS[job.state]}
        </span>
      }
    >
      <p className="small" data-testid="training-detail">
        {job.detail}
        {job.durationMs !== null && <span className="muted"> · {formatMs(job.durationMs)}</span>}
      </p>
      {job.trigger.kind !== 'user' && (
        <p className="small muted" data-testid="training-trigger">
          Automatic retraining ({job.trigger.kind}): {job.trigger.reason}
          {job.decision && ` · ${job.decision.replaced ? 'replaced the active model' : 'kept the active model'}: ${job.decision.reason}`}
        </p>
      )}
      {job.state === 'finished' && job.model && (
        <>
          <p className="small muted">
            New model <strong data-testid="training-new-model">{`${job.model.name} ${job.model.version}`}</strong>
            {job.settings.members > 1 && ` · an ensemble of ${job.settings.members} TFTs`}
            {job.epochs.length > 0 && ` · ${job.epochs.length} epochs, last validation loss ${job.epochs.at(-1)?.validationLoss?.toFixed(4) ?? '—'}`}
          </p>
          {job.evaluation ? (
            <EvaluationTable
              testId="training-evaluation"
              models={[
                { label: `${job.model.name} ${job.model.version} (new)`, evaluation: job.evaluation },
                ...(active && !isActive ? [active] : []),
              ]}
            />
          ) : (
            <p className="small muted">Not evaluated (turned off in the settings).</p>
          )}
          <div className="training-row">
            {isActive ? (
              <span className="state state-ok" data-testid="training-activated">
                Active: predictions run on this model
              </span>
            ) : modelStillThere ? (
              <>
                <button type="button" className="button" disabled={busy} onClick={onActivate} data-testid="training-activate">
                  Activate
                </button>
                <button type="button" className="button" disabled={busy} onClick={onKeep} data-testid="training-keep">
                  Keep
                </button>
                <button type="button" className="button training-discard" disabled={busy} onClick={onDiscard} data-testid="training-discard">
                  Discard
                </button>
              </>
            ) : (
              <span className="small muted">The model folder was deleted.</span>
            )}
          </div>
        </>
      )}
      {job.state !== 'finished' && (
        <div className="training-row">
          <button type="button" className="button button-small" onClick={onClose}>
            Dismiss
          </button>
        </div>
      )}
    </Panel>
  );
}
