import { useState, type ReactNode } from 'react';
import type { Settings, SettingsPatch } from '@shared/domain';
import { ErrorPanel } from '../components/ErrorPanel';
import { Panel } from '../components/Panel';
import { RiskLegend } from '../components/RiskLegend';
import { View } from '../components/View';
import type { SettingsState } from '../hooks/use-settings';
import { ImportPanel } from './SettingsView.import';
import { IntegrationsPanel, SourcesPanel } from './SettingsView.sources';

interface Choice<V extends string> {
  value: V;
  label: string;
  description: string;
}

const THEMES: Choice<Settings['theme']>[] = [
  { value: 'dark', label: 'Dark', description: 'Low glare for wall screens and night shifts.' },
  { value: 'light', label: 'Light', description: 'For bright rooms and printouts.' },
];

const PALETTES: Choice<Settings['riskPalette']>[] = [
  { value: 'standard', label: 'Standard', description: 'Green, yellow, red.' },
  {
    value: 'colorblind',
    label: 'Colour-blind safe',
    description: 'Blue to orange (Okabe-Ito): tells the bands apart with red-green colour blindness.',
  },
];

export function SettingsView({ state }: { state: SettingsState }) {
  const { settings, loadError, saveError, saving, update } = state;
  // The choice just clicked shows as selected while the core confirms it.
  const [pending, setPending] = useState<SettingsPatch>({});

  const change = (patch: SettingsPatch): void => {
    setPending((p) => ({ ...p, ...patch }));
    void update(patch).finally(() =>
      setPending((p) => {
        const next = { ...p };
        if (patch.theme !== undefined && next.theme === patch.theme) delete next.theme;
        if (patch.riskPalette !== undefined && next.riskPalette === patch.riskPalette) delete next.riskPalette;
        return next;
      }),
    );
  };

  return (
    <View
      id="settings"
      title="Settings"
      subtitle="Kept by the core, so the desktop app and every browser dashboard share them; changes apply everywhere at once."
      actions={
        <span className="save-status" data-testid="settings-status" aria-live="polite">
          {saving ? 'Saving…' : saveError ? 'Not saved' : settings ? 'Saved' : ''}
        </span>
      }
    >
      {loadError && !settings && <ErrorPanel title="Could not read the settings" error={loadError} />}
      {saveError && <ErrorPanel title="The change was not saved" error={saveError} />}
      {!settings && !loadError && <p className="muted">Loading settings…</p>}

      {settings && (
        <div className="settings-grid">
          <Panel title="Appearance" testId="settings-appearance">
            <ChoiceGroup
              name="theme"
              legend="Theme"
              choices={THEMES}
              value={pending.theme ?? settings.theme}
              onChange={(theme) => change({ theme })}
              renderPreview={(value) => <span className={`theme-preview theme-preview-${value}`} aria-hidden="true" />}
            />
          </Panel>
          <Panel title="Risk colours" testId="settings-risk">
            <ChoiceGroup
              name="palette"
              legend="Risk palette"
              choices={PALETTES}
              value={pending.riskPalette ?? settings.riskPalette}
              onChange={(riskPalette) => change({ riskPalette })}
              renderPreview={(value) => (
                <span className="palette-preview" data-palette={value}>
                  <RiskLegend compact />
                </span>
              )}
            />
            <p className="muted small">
              Used by the heatmap, the server list, forecasts and alerts: healthy (under 30 %), warning, critical (from 60 %).
            </p>
          </Panel>
          <ImportPanel />
          <SourcesPanel />
          <IntegrationsPanel />
        </div>
      )}
    </View>
  );
}

function ChoiceGroup<V extends string>({
  name,
  legend,
  choices,
  value,
  onChange,
  renderPreview,
}: {
  name: string;
  legend: string;
  choices: Choice<V>[];
  value: V;
  onChange: (value: V) => void;
  renderPreview: (value: V) => ReactNode;
}) {
  return (
    <fieldset className="choices">
      <legend className="choices-legend">{legend}</legend>
      {choices.map((choice) => (
        <label className="choice" key={choice.value}>
          <input
            type="radio"
            name={name}
            value={choice.value}
            checked={value === choice.value}
            onChange={() => onChange(choice.value)}
            data-testid={`settings-${name}-${choice.value}`}
          />
          <span className="choice-text">
            <span className="choice-label">{choice.label}</span>
            <span className="choice-description">{choice.description}</span>
          </span>
          {renderPreview(choice.value)}
        </label>
      ))}
    </fieldset>
  );
}
