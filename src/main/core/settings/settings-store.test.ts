import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '@shared/domain';
import { createMemoryLogger } from '../util/logger';
import { SETTINGS_FILE, SettingsStore } from './settings-store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SettingsStore', () => {
  it('starts from the defaults and persists changes across instances', () => {
    const logger = createMemoryLogger();
    const store = new SettingsStore(dir, logger);
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.update({ theme: 'light' })).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    expect(new SettingsStore(dir, logger).get().theme).toBe('light');
    expect(logger.records).toEqual([]);
  });

  it('reads a field present but undefined as not given (IPC and in-process calls can carry one)', () => {
    const store = new SettingsStore(dir, createMemoryLogger());
    store.update({ theme: 'light' });
    expect(store.update({ theme: undefined, riskPalette: 'colorblind' })).toEqual({
      ...DEFAULT_SETTINGS,
      theme: 'light',
      riskPalette: 'colorblind',
    });
  });

  it('leaves no temp file behind', () => {
    const store = new SettingsStore(dir, createMemoryLogger());
    store.update({ riskPalette: 'colorblind' });
    store.update({ theme: 'light' });
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE]);
  });

  it.each([
    ['not JSON', '{"theme": '],
    ['a bad value', '{"theme": "blue"}'],
  ])('falls back to the defaults on a file with %s, and says so', (_what, text) => {
    writeFileSync(join(dir, SETTINGS_FILE), text);
    const logger = createMemoryLogger();
    expect(new SettingsStore(dir, logger).get()).toEqual(DEFAULT_SETTINGS);
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0]!.level).toBe('warn');
    // The broken file stays for the user to inspect until the next change.
    expect(readFileSync(join(dir, SETTINGS_FILE), 'utf8')).toBe(text);
  });

  it('fills fields missing from an older file with the defaults', () => {
    writeFileSync(join(dir, SETTINGS_FILE), '{"theme": "light"}');
    expect(new SettingsStore(dir, createMemoryLogger()).get()).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
  });
});
