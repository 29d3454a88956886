import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '@shared/contract';
import type { Settings, SettingsPatch } from '@shared/domain';
import { useApi } from '../api/use-api';
import { useEvent } from '../api/use-event';

export interface SettingsState {
  /** Null until the core answered once. */
  settings: Settings | null;
  /** Why the settings could not be read. */
  loadError: ApiError | null;
  /** Why the last change was refused. */
  saveError: ApiError | null;
  saving: boolean;
  update: (patch: SettingsPatch) => Promise<void>;
}

/**
 * The user settings as the core holds them. They are read at start and whenever the link
 * comes back, and follow `settings.changed`, so a change made in another window (or by the
 * other app: desktop and browser share one core) applies here at once.
 */
export function useSettingsState(): SettingsState {
  const client = useApi();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  // Bumped by every write; a read that started before a write must not undo it.
  const generation = useRef(0);

  const accept = useCallback((next: Settings) => {
    generation.current += 1;
    setSettings(next);
  }, []);

  useEvent('settings.changed', accept);

  useEffect(() => {
    let current = true;
    const load = (): void => {
      const startedAt = generation.current;
      client.call('settings.get', {}).then(
        (next) => {
          if (!current || generation.current !== startedAt) return;
          setSettings(next);
          setLoadError(null);
        },
        (error: unknown) => {
          if (current) setLoadError(toApiError(error));
        },
      );
    };
    let wasOpen: boolean | null = null;
    const off = client.onConnectionChange((state) => {
      const open = state === 'open';
      if (open && wasOpen === false) load();
      wasOpen = open;
    });
    load();
    return () => {
      current = false;
      off();
    };
  }, [client]);

  const update = useCallback(
    async (patch: SettingsPatch) => {
      setSaving(true);
      setSaveError(null);
      try {
        accept(await client.call('settings.update', patch));
      } catch (error) {
        setSaveError(toApiError(error));
      } finally {
        setSaving(false);
      }
    },
    [client, accept],
  );

  return { settings, loadError, saveError, saving, update };
}

function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError('internal', String(error));
}
