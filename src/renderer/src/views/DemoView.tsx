import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { PROFILES, isProfile, type ApiError, type Profile } from '@shared/contract';
import { RISK_THRESHOLDS, type DemoRun, type DemoScenario, type DemoState } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useEvent } from '../api/use-event';
import { useQuery } from '../api/use-query';
import { EChart } from '../charts/EChart';
import { EmptyState } from '../components/EmptyState';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { View } from '../components/View';
import { fleetNow } from '../fleet-clock';
import { formatClock, formatTimestamp } from '../format';
import { readingOf, useFleetClock } from '../hooks/use-fleet-clock';
import { useNow } from '../hooks/use-now';
import { formatFailureMode, formatRisk } from '../risk';
import {
  PRECURSOR_DEFAULT,
  PRECURSOR_MAX,
  PRECURSOR_MIN,
  SCENARIOS,
  SPEED_LADDER,
  SPEED_STEPS,
  currentRun,
  demoMetricOption,
  demoRiskOption,
  demoStage,
  describeLead,
  formatLead,
  describeSpeed,
  drivingMetric,
  firstCrossing,
  formatSpeed,
  leadTimeMs,
  metricForecast,
  parsePrecursor,
  runMetricPoints,
  runRiskPoints,
  scenarioInfo,
  serverChoice,
  speedIndex,
  withLatest,
  type DemoStage,
} from './demo-model';
import { useChartTheme } from './trends-chart-theme';
import { formatMetricValue } from './trends-model';
import './DemoView.css';

export function DemoView() {
  const demo = useQuery('demo.state', {}, { refetchOn: 'demo.changed', throttleMs: 250 });
  const state = demo.data;
  const [presenting, setPresenting] = useState<false | 'fullscreen' | 'overlay'>(false);
  // The fleet clock: the answer's fleet time, moved on by fleet.updated, extrapolated at the demo's speed.
  const clock = useFleetClock(readingOf(state?.fleetTime, demo.updatedAt));
  const now = useNow(1000);
  const fleetMs =
    state && clock.reading
      ? fleetNow(clock.reading, state.paused ? 0 : state.speed, now)
      : state
        ? Date.parse(state.fleetTime)
        : now;

  return (
    <View
      id="demo"
      title="Demo"
      subtitle="Push a simulated server towards an incident and watch the model see it coming. Runs fully offline."
    >
      {demo.error && <ErrorPanel title="Could not read the demo's state" error={demo.error} onRetry={demo.refetch} />}
      {!state && !demo.error && (
        <p className="muted" role="status">
          Loading the demo…
        </p>
      )}
      {state && !state.available && (
        <EmptyState
          id="demo"
          icon="demo"
          title="The demo needs the simulated fleet, and it is off"
          needs={
            <span>
              The daemon started without its simulator (<code>--no-simulator</code>), so there is no server to push.
              Start it without that option (<code>npm run serve</code>), or use the desktop app, which always runs one.
            </span>
          }
        >
          <p>
            The demo starts a scenario (memory leak, disk fill, CPU runaway…) on a simulated server, speeds up the fleet
            clock, and shows the server&apos;s predicted risk climbing past the warning level before the incident
            begins.
          </p>
        </EmptyState>
      )}
      {state && state.available && (
        <DemoConsole state={state} fleetMs={fleetMs} presenting={presenting} setPresenting={setPresenting} />
      )}
    </View>
  );
}

function DemoConsole({
  state,
  fleetMs,
  presenting,
  setPresenting,
}: {
  state: DemoState;
  fleetMs: number;
  presenting: false | 'fullscreen' | 'overlay';
  setPresenting: (p: false | 'fullscreen' | 'overlay') => void;
}) {
  const run = currentRun(state);
  // A server this page just added to the fleet: the store has it only from the next fleet step on.
  const [joining, setJoining] = useState<string | null>(null);
  const setup = (
    <div className="demo-setup-grid">
      <ScenarioForm state={state} onStarted={(server, isNew) => setJoining(isNew ? server : null)} />
      <SimulationControls state={state} fleetMs={fleetMs} />
    </div>
  );
  // While a scenario runs, the live stage comes first: it is what everyone watches.
  return (
    <>
      {!run && setup}
      {run ? (
        <DemoJoinGate
          key={`${run.server} ${run.startedAt}`}
          joining={joining === run.server}
          run={run}
          state={state}
          fleetMs={fleetMs}
          presenting={presenting}
          setPresenting={setPresenting}
        />
      ) : (
        <div className="demo-waiting" data-testid="demo-no-run">
          <p>
            <strong>No scenario running.</strong> Pick a server and a scenario above and press <em>Start scenario</em>:
            the server&apos;s predicted risk, its driving metric and its state will be followed here live, with the
            moment the incident begins marked.
          </p>
        </div>
      )}
      {run && setup}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Setup: server, scenario, precursor.

function ScenarioForm({ state, onStarted }: { state: DemoState; onStarted: (server: string, isNew: boolean) => void }) {
  const client = useApi();
  const ids = useId();
  const [serverText, setServerText] = useState('');
  const [touched, setTouched] = useState(false);
  const [profile, setProfile] = useState<Profile | 'inferred'>('inferred');
  const [scenario, setScenario] = useState<DemoScenario>('memory_leak');
  const [precursorText, setPrecursorText] = useState(String(PRECURSOR_DEFAULT));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Until the user types, the field offers the first simulated server.
  const typed = touched ? serverText : serverText || (state.servers[0]?.name ?? '');
  const choice = serverChoice(typed, state.servers);
  const precursor = parsePrecursor(precursorText);
  const canStart = !busy && choice.error === null && (scenario === 'healthy' || precursor !== null);

  const start = (e: React.FormEvent) => {
    e.preventDefault();
    if (!canStart) return;
    setBusy(true);
    setError(null);
    client
      .call('demo.run', {
        server: choice.name,
        scenario,
        precursorHours: precursor ?? PRECURSOR_DEFAULT,
        ...(choice.isNew && profile !== 'inferred' ? { profile } : {}),
      })
      .then(
        () => {
          setBusy(false);
          onStarted(choice.name, choice.isNew);
        },
        (err: unknown) => {
          setBusy(false);
          setError((err as ApiError).message);
        },
      );
  };

  return (
    <Panel title="Scenario" testId="demo-setup" className="demo-panel">
      <form className="demo-form" onSubmit={start} aria-label="Start a scenario">
        <div className="demo-field">
          <label htmlFor={`${ids}-server`}>Server</label>
          <input
            id={`${ids}-server`}
            className="input"
            list={`${ids}-servers`}
            value={typed}
            autoComplete="off"
            spellCheck={false}
            data-testid="demo-server"
            aria-invalid={choice.error !== null}
            aria-describedby={`${ids}-server-hint`}
            onChange={(e) => {
              setTouched(true);
              setServerText(e.target.value);
            }}
          />
          <datalist id={`${ids}-servers`}>
            {state.servers.map((s) => (
              <option key={s.name} value={s.name}>
                {s.profile}
              </option>
            ))}
          </datalist>
          <p id={`${ids}-server-hint`} className="demo-hint" data-testid="demo-server-hint">
            {choice.error ??
              (choice.isNew
                ? `New server: it joins the simulated fleet as ${profile === 'inferred' ? choice.profile : profile}.`
                : `Simulated server, profile ${choice.profile}. Type a new name to add one.`)}
          </p>
        </div>

        {choice.isNew && (
          <div className="demo-field">
            <label htmlFor={`${ids}-profile`}>Profile</label>
            <select
              id={`${ids}-profile`}
              className="input"
              value={profile}
              data-testid="demo-profile"
              onChange={(e) => setProfile(isProfile(e.target.value) ? e.target.value : 'inferred')}
            >
              <option value="inferred">From the name ({choice.profile})</option>
              {PROFILES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
        )}

        <fieldset className="demo-scenarios">
          <legend>Scenario</legend>
          {SCENARIOS.map((s) => (
            <label key={s.id} className="demo-scenario" data-testid={`demo-scenario-${s.id}`}>
              <input
                type="radio"
                name={`${ids}-scenario`}
                value={s.id}
                checked={scenario === s.id}
                onChange={() => setScenario(s.id)}
              />
              <span className="demo-scenario-text">
                <span className="demo-scenario-label">{s.label}</span>
                <span className="demo-scenario-description">{s.description}</span>
              </span>
            </label>
          ))}
        </fieldset>

        <div className="demo-field demo-field-inline">
          <label htmlFor={`${ids}-precursor`}>Warning signs for</label>
          <input
            id={`${ids}-precursor`}
            className="input demo-precursor"
            type="number"
            inputMode="decimal"
            min={PRECURSOR_MIN}
            max={PRECURSOR_MAX}
            step={0.5}
            value={precursorText}
            disabled={scenario === 'healthy'}
            data-testid="demo-precursor"
            aria-describedby={`${ids}-precursor-hint`}
            onChange={(e) => setPrecursorText(e.target.value)}
          />
          <span>hours before the incident</span>
          <p id={`${ids}-precursor-hint`} className="demo-hint">
            {scenario === 'healthy'
              ? 'Healing needs no precursor.'
              : precursor === null
                ? `A number of hours from ${PRECURSOR_MIN} to ${PRECURSOR_MAX}.`
                : `The precursor: how long the metric drifts before the incident begins (${PRECURSOR_MIN} to ${PRECURSOR_MAX} h, in fleet time).`}
          </p>
        </div>

        <div className="demo-actions">
          <button type="submit" className="button demo-start" disabled={!canStart} data-testid="demo-start">
            {busy ? 'Starting…' : scenario === 'healthy' ? 'Heal server' : 'Start scenario'}
          </button>
          {error && (
            <span className="warn-text" role="alert" data-testid="demo-start-error">
              {error}
            </span>
          )}
        </div>
      </form>
    </Panel>
  );
}

// ---------------------------------------------------------------------------------------------
// Simulation: speed, pause, reset.

function SimulationControls({ state, fleetMs }: { state: DemoState; fleetMs: number }) {
  const client = useApi();
  const ids = useId();
  const [error, setError] = useState<string | null>(null);
  const [pendingSpeed, setPendingSpeed] = useState<number | null>(null);
  // The speed asked for shows at once, and stays until demo.state reports it (no flicker back).
  if (pendingSpeed !== null && state.speed === pendingSpeed) setPendingSpeed(null);
  const speed = pendingSpeed ?? state.speed;

  const control = (input: { speed?: number; paused?: boolean }) => {
    setError(null);
    client.call('demo.control', input).then(
      // Another window may have set another speed meanwhile: the core's word wins after a moment.
      () => setTimeout(() => setPendingSpeed(null), 2000),
      (err: unknown) => {
        setPendingSpeed(null);
        setError((err as ApiError).message);
      },
    );
  };
  const setSpeed = (value: number) => {
    setPendingSpeed(value);
    control({ speed: value });
  };
  const reset = () => {
    setError(null);
    client.call('demo.reset', {}).then(
      () => undefined,
      (err: unknown) => setError((err as ApiError).message),
    );
  };

  return (
    <Panel title="Simulation" testId="demo-controls" className="demo-panel">
      <dl className="kv kv-compact demo-clock">
        <dt>Fleet clock</dt>
        <dd
          data-testid="demo-fleet-time"
          data-fleet-time={state.fleetTime}
          title={formatTimestamp(new Date(fleetMs).toISOString())}
        >
          {formatClock(fleetMs, fleetMs)}
          {state.paused && <span className="pill pill-degraded demo-paused-pill">paused</span>}
        </dd>
        <dt>Speed</dt>
        <dd data-testid="demo-speed" data-speed={state.speed}>
          {formatSpeed(state.speed)} · {describeSpeed(state.speed)}
        </dd>
      </dl>

      <div className="demo-field">
        <span className="demo-label" id={`${ids}-steps`}>
          Set the speed
        </span>
        <div className="demo-speed-steps" role="group" aria-labelledby={`${ids}-steps`}>
          {SPEED_STEPS.map((s) => (
            <button
              key={s}
              type="button"
              className="chip"
              aria-pressed={speed === s}
              data-testid={`demo-speed-${s}`}
              onClick={() => setSpeed(s)}
            >
              {formatSpeed(s)}
            </button>
          ))}
        </div>
        <input
          type="range"
          className="demo-speed-slider"
          min={0}
          max={SPEED_LADDER.length - 1}
          step={1}
          value={speedIndex(speed)}
          aria-label="Set the speed"
          aria-valuetext={`${formatSpeed(speed)}, ${describeSpeed(speed)}`}
          data-testid="demo-speed-slider"
          onChange={(e) => setSpeed(SPEED_LADDER[Number(e.target.value)] ?? 1)}
        />
        {state.speed > SPEED_LADDER.at(-1)! && (
          <p className="demo-hint">Running faster than this slider goes (set through the API).</p>
        )}
      </div>

      <div className="demo-actions">
        <button
          type="button"
          className="button"
          data-testid="demo-pause"
          aria-pressed={state.paused}
          onClick={() => control({ paused: !state.paused })}
        >
          {state.paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
        <button type="button" className="button" data-testid="demo-reset" onClick={reset}>
          Reset demo
        </button>
      </div>
      <p className="demo-hint">
        Reset heals every server a scenario touched, clears the runs, and goes back to 1× and running.
      </p>
      {error && (
        <p className="warn-text" role="alert" data-testid="demo-control-error">
          {error}
        </p>
      )}
    </Panel>
  );
}

// ---------------------------------------------------------------------------------------------
// Watching the run: risk, driving metric, stage. The presentation mode shows this part alone.

const STAGES: { id: Exclude<DemoStage, 'unknown'>; label: string }[] = [
  { id: 'healthy', label: 'Healthy' },
  { id: 'degrading', label: 'Degrading' },
  { id: 'critical', label: 'Critical' },
];

/**
 * Holds the live stage back while a server this page just added joins the fleet: until the next
 * fleet step writes its first samples, the store does not know it (every query would answer
 * not_found).
 */
function DemoJoinGate(props: {
  joining: boolean;
  run: DemoRun;
  state: DemoState;
  fleetMs: number;
  presenting: false | 'fullscreen' | 'overlay';
  setPresenting: (p: false | 'fullscreen' | 'overlay') => void;
}) {
  const { joining, ...rest } = props;
  const [arrived, setArrived] = useState(!joining);
  useEvent('fleet.updated', (update) => {
    if (!arrived && update.accepted > 0 && Date.parse(update.fleetTime) > Date.parse(props.run.startedAt))
      setArrived(true);
  });
  if (arrived) return <DemoWatch {...rest} />;
  return (
    <div className="demo-waiting" data-testid="demo-joining" role="status">
      <p>
        <strong>{props.run.server} is joining the fleet.</strong> Its first samples come with the next fleet step (every
        5 minutes of fleet time{props.state.paused ? '; the simulation is paused' : ''}); its risk and metrics follow
        here from then on.
      </p>
    </div>
  );
}

function DemoWatch({
  run,
  state,
  fleetMs,
  presenting,
  setPresenting,
}: {
  run: DemoRun;
  state: DemoState;
  fleetMs: number;
  presenting: false | 'fullscreen' | 'overlay';
  setPresenting: (p: false | 'fullscreen' | 'overlay') => void;
}) {
  const client = useApi();
  const theme = useChartTheme();
  const server = run.server;
  const prediction = useQuery('predictions.server', { server }, { refetchOn: 'predictions.updated', throttleMs: 400 });
  const riskHistory = useQuery(
    'predictions.history',
    { server, hours: 24 },
    { refetchOn: 'predictions.updated', throttleMs: 1000 },
  );
  const metrics = useQuery('metrics.history', { server, hours: 24 }, { refetchOn: 'fleet.updated', throttleMs: 1000 });

  const result = prediction.data;
  const latest = result?.prediction ?? null;
  const latestTime = latest && result?.time ? Date.parse(result.time) : null;
  const latestRisk = latest?.risk ?? null;
  const points = useMemo(
    () =>
      withLatest(
        runRiskPoints(riskHistory.data, run),
        latestTime !== null && latestRisk !== null ? { time: latestTime, risk: latestRisk } : null,
      ),
    [riskHistory.data, run, latestTime, latestRisk],
  );
  const crossing = useMemo(
    () => firstCrossing(points, RISK_THRESHOLDS.warning, Date.parse(run.startedAt)),
    [points, run.startedAt],
  );
  const lead = leadTimeMs(crossing, run.onsetAt);
  const metric = drivingMetric(run.scenario, latest?.failureMode);
  const states = metrics.data?.states ?? [];
  let simState = run.state;
  for (let i = states.length - 1; i >= 0; i--) {
    if (states[i]) {
      simState = states[i]!;
      break;
    }
  }
  const risk = latest?.risk ?? null;
  const stage = demoStage(risk, simState);
  const large = presenting !== false;
  const riskOption = useMemo(
    () => demoRiskOption(points, run, theme, { crossing, large }),
    [points, run, theme, crossing, large],
  );
  const samples = useMemo(() => runMetricPoints(metrics.data, metric, run), [metrics.data, metric, run]);
  const forecast = useMemo(
    () => metricForecast(latest, result?.horizon.times ?? [], metric),
    [latest, result?.horizon.times, metric],
  );
  const metricOption = useMemo(
    () => demoMetricOption(samples, forecast, metric, run, theme, { large }),
    [samples, forecast, metric, run, theme, large],
  );
  const lastMetric = samples.findLast(([, v]) => v !== null)?.[1] ?? null;
  const info = scenarioInfo(run.scenario);
  const onsetMs = run.onsetAt ? Date.parse(run.onsetAt) : null;

  // Presentation mode: the Fullscreen API where allowed, else a fixed full-window overlay. Esc leaves either.
  const stageRef = useRef<HTMLElement>(null);
  const exitRef = useRef<HTMLButtonElement>(null);
  const enterRef = useRef<HTMLButtonElement>(null);
  const enter = () => {
    const element = stageRef.current;
    if (element && document.fullscreenEnabled && typeof element.requestFullscreen === 'function') {
      element.requestFullscreen().then(
        () => setPresenting('fullscreen'),
        () => setPresenting('overlay'),
      );
    } else {
      setPresenting('overlay');
    }
  };
  const leave = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    setPresenting(false);
  }, [setPresenting]);
  useEffect(() => {
    if (!presenting) return;
    exitRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') leave();
    };
    const onFullscreen = () => {
      if (!document.fullscreenElement && presenting === 'fullscreen') setPresenting(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('fullscreenchange', onFullscreen);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('fullscreenchange', onFullscreen);
    };
  }, [presenting, leave, setPresenting]);
  const wasPresenting = useRef(false);
  useEffect(() => {
    if (wasPresenting.current && !presenting) enterRef.current?.focus();
    wasPresenting.current = presenting !== false;
  }, [presenting]);
  // Leaving the view while presenting leaves full screen too.
  useEffect(
    () => () => {
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    },
    [],
  );

  const togglePause = () => {
    void client.call('demo.control', { paused: !state.paused }).catch(() => undefined);
  };

  return (
    <section
      ref={stageRef}
      className={presenting ? 'demo-stage demo-present' : 'demo-stage'}
      data-testid="demo-stage"
      data-presenting={presenting || undefined}
      aria-labelledby="demo-stage-title"
      role={presenting ? 'dialog' : undefined}
      aria-modal={presenting ? true : undefined}
    >
      <header className="demo-stage-header">
        <div>
          <h2 className="demo-stage-title" id="demo-stage-title">
            <a href={`#/servers/${encodeURIComponent(server)}`} data-testid="demo-run-server">
              {server}
            </a>{' '}
            <span className="demo-stage-scenario" data-testid="demo-run-scenario" data-scenario={run.scenario}>
              {info.label}
            </span>
          </h2>
          <p className="demo-stage-sub">
            Started <time dateTime={run.startedAt}>{formatClock(Date.parse(run.startedAt), fleetMs)}</time>
            {run.onsetAt && (
              <>
                {' '}
                · incident onset{' '}
                <time dateTime={run.onsetAt} data-testid="demo-onset" data-onset={run.onsetAt}>
                  {formatClock(Date.parse(run.onsetAt), fleetMs)}
                </time>
                {onsetMs !== null && fleetMs < onsetMs && <> (in {formatLead(onsetMs - fleetMs)})</>}
              </>
            )}{' '}
            · fleet clock {formatClock(fleetMs, fleetMs)} at {formatSpeed(state.speed)}
            {state.paused && ', paused'}
          </p>
        </div>
        <div className="demo-stage-actions">
          <button
            type="button"
            className="button"
            onClick={togglePause}
            aria-pressed={state.paused}
            data-testid="demo-stage-pause"
          >
            {state.paused ? '▶ Resume' : '❚❚ Pause'}
          </button>
          {presenting ? (
            <button type="button" className="button" ref={exitRef} onClick={leave} data-testid="demo-present-exit">
              Exit presentation (Esc)
            </button>
          ) : (
            <button type="button" className="button" ref={enterRef} onClick={enter} data-testid="demo-present">
              Presentation mode
            </button>
          )}
        </div>
      </header>

      <div className="demo-figures">
        <div className="demo-risk" data-testid="demo-risk-box">
          <span className="demo-figure-label">Risk of an incident within 8 h</span>
          <span
            className={`demo-risk-value demo-stage-${stage}`}
            data-testid="demo-risk"
            data-risk={risk ?? undefined}
            data-time={result?.time ?? undefined}
            aria-live="polite"
          >
            {risk === null ? <span className="demo-risk-none">no risk yet</span> : formatRisk(risk)}
          </span>
          <span className="demo-figure-sub" data-testid="demo-risk-detail">
            {latest
              ? `failure mode ${formatFailureMode(latest.failureMode)}${result?.time ? ` · predicted on data to ${formatClock(Date.parse(result.time), fleetMs)}` : ''}`
              : (result?.unavailable?.detail ??
                (prediction.error ? prediction.error.message : 'Waiting for the first prediction…'))}
          </span>
        </div>

        <ol className="demo-stages" aria-label="Server state" data-testid="demo-state" data-stage={stage}>
          {STAGES.map((s) => (
            <li
              key={s.id}
              className={`demo-stage-step demo-step-${s.id}`}
              aria-current={stage === s.id ? 'step' : undefined}
            >
              {s.label}
            </li>
          ))}
          <li className="demo-sim-state">
            simulator: <span data-testid="demo-sim-state">{simState ?? 'unknown'}</span>
          </li>
        </ol>

        <div
          className="demo-lead"
          data-testid="demo-lead"
          data-crossed-at={crossing ? new Date(crossing.time).toISOString() : undefined}
          data-lead-ms={lead ?? undefined}
        >
          <span className="demo-figure-label">Early warning</span>
          <span className={lead !== null && lead >= 0 ? 'demo-lead-text demo-lead-good' : 'demo-lead-text'}>
            {describeLead(lead, run, fleetMs)}
          </span>
          {crossing && (
            <span className="demo-figure-sub">
              risk {formatRisk(crossing.risk)} on data to {formatClock(crossing.time, fleetMs)}
            </span>
          )}
        </div>
      </div>

      <div className="demo-charts">
        <div className="demo-chart-box">
          <h3 className="demo-chart-title">Predicted risk</h3>
          {points.length > 0 ? (
            <EChart
              option={riskOption}
              className="demo-chart"
              label={`${server}'s predicted risk since the scenario started, now ${formatRisk(risk)}; warning level ${formatRisk(RISK_THRESHOLDS.warning)}, critical ${formatRisk(RISK_THRESHOLDS.critical)}.`}
            />
          ) : (
            <p className="demo-chart-empty">
              {riskHistory.error
                ? riskHistory.error.message
                : 'No prediction for this server since the scenario started yet.'}
            </p>
          )}
        </div>
        <div className="demo-chart-box">
          <h3 className="demo-chart-title">
            {metric} <span className="demo-chart-now">now {formatMetricValue(metric, lastMetric)}</span>
          </h3>
          {samples.length > 0 ? (
            <EChart
              option={metricOption}
              className="demo-chart"
              label={`${server}'s ${metric} since the scenario started, now ${formatMetricValue(metric, lastMetric)}, with the latest forecast and the thresholds.`}
            />
          ) : (
            <p className="demo-chart-empty">
              {metrics.error ? metrics.error.message : 'No samples from this server since the scenario started yet.'}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
