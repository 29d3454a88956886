import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import type { Logger } from '../util/logger';

export const ACTIVE_MODEL_FILE = 'active-model.json';

/**
 * The model the user activated (model.activate), in `<dataDir>/active-model.json`, written
 * atomically, so a restart predicts with it. Null: the bundled model. Kept apart from the user
 * settings (settings.json): it is set only through model.activate, which checks the folder first,
 * never through settings.update. A file that does not parse is reported and read as null.
 */
export class ActiveModelSetting {
  private readonly path: string;
  private current: string | null;

  constructor(dataDir: string, private readonly logger: Logger) {
    this.path = join(dataDir, ACTIVE_MODEL_FILE);
    this.current = this.load();
  }

  /** The activated model folder (absolute), or null for the bundled one. */
  get(): string | null {
    return this.current;
  }

  set(dir: string | null): void {
    const value = dir === null ? null : resolve(dir);
    writeFileAtomic(this.path, `${JSON.stringify({ dir: value }, null, 2)}\n`);
    this.current = value;
  }

  private load(): string | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn('active model setting unreadable; using the bundled model', { path: this.path, error });
      return null;
    }
    try {
      const json = JSON.parse(text) as unknown;
      const dir = typeof json === 'object' && json !== null ? (json as { dir?: unknown }).dir : undefined;
      if (dir === null) return null;
      if (typeof dir === 'string' && dir.length > 0) return resolve(dir);
      this.logger.warn('active model setting has no "dir"; using the bundled model', { path: this.path });
    } catch (error) {
      this.logger.warn('active model setting is not JSON; using the bundled model', { path: this.path, error });
    }
    return null;
  }
}
