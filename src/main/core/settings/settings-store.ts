import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, SettingsSchema, type Settings, type SettingsPatch } from '@shared/domain';
import { writeFileAtomic } from '../util/atomic-write';
import type { Logger } from '../util/logger';

export const SETTINGS_FILE = 'settings.json';

/**
 * Settings in `<dataDir>/settings.json`, written atomically. A file that does not parse is
 * reported and replaced by the defaults in memory; it is left on disk until the next change,
 * so the user can still look at what was wrong.
 */
export class SettingsStore {
  private current: Settings;
  private readonly path: string;

  constructor(dataDir: string, private readonly logger: Logger) {
    this.path = join(dataDir, SETTINGS_FILE);
    this.current = this.load();
  }

  get(): Settings {
    return { ...this.current };
  }

  update(patch: SettingsPatch): Settings {
    // A field present but undefined (IPC's structured clone and the in-process client carry
    // them; JSON cannot) means "not given", as it would over HTTP: it must not erase the value.
    const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const next = SettingsSchema.parse({ ...this.current, ...given });
    writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
    this.current = next;
    return this.get();
  }

  private load(): Settings {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn('settings file unreadable; using defaults', { path: this.path, error });
      }
      return { ...DEFAULT_SETTINGS };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      this.logger.warn('settings file is not JSON; using defaults', { path: this.path, error });
      return { ...DEFAULT_SETTINGS };
    }
    // Older files may lack newer fields: defaults fill them, unknown fields are dropped.
    const parsed = SettingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...(isObject(json) ? json : {}) });
    if (!parsed.success) {
      this.logger.warn('settings file has invalid values; using defaults', {
        path: this.path,
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      return { ...DEFAULT_SETTINGS };
    }
    return parsed.data;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
