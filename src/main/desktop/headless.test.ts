import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../core/util/logger';
import { HeadlessUsageError, parseHeadlessArgs } from './headless';
import { startDesktop, type DesktopRuntime } from './start-desktop';
import { FakeElectron } from './testing/fake-electron';
import { quitAndWait } from './testing/test-desktop';

const dirs: string[] = [];
const fakes: FakeElectron[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) if (!fake.app.quitted) await quitAndWait(fake);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tftmp-headless-'));
  dirs.push(dir);
  return dir;
}

describe('parseHeadlessArgs', () => {
  it('is null without --headless, whatever else is on the command line', () => {
    expect(parseHeadlessArgs([])).toBeNull();
    expect(parseHeadlessArgs(['.', '--port', '9000', '--enable-logging'])).toBeNull();
  });

  it('reads the serve flags, with its defaults, past Chromium switches', () => {
    expect(parseHeadlessArgs(['.', '--no-sandbox', '--headless'])).toEqual({ port: 8000, host: '127.0.0.1', allowHosts: [] });
    expect(
      parseHeadlessArgs(['--headless', '--port', '0', '--host', '0.0.0.0', '--token-file', '/t', '--allow-host', 'a', '--allow-host', 'b']),
    ).toEqual({ port: 0, host: '0.0.0.0', tokenFile: '/t', allowHosts: ['a', 'b'] });
  });

  it('refuses a bad port', () => {
    for (const port of ['x', '-1', '70000', '1.5']) {
      expect(() => parseHeadlessArgs(['--headless', '--port', port])).toThrow(HeadlessUsageError);
    }
  });
});

async function startHeadless(argv: string[], lockAvailable = true) {
  const fake = new FakeElectron(tempDir());
  fake.app.lockAvailable = lockAvailable;
  fakes.push(fake);
  const out: string[] = [];
  const handle = startDesktop(fake.api, {
    mainDir: join(fake.app.getPath('userData'), 'app', 'out', 'main'),
    env: {},
    argv,
    platform: 'linux',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    simulator: null,
    model: null,
    stdout: { write: (t: string) => out.push(t) },
  });
  fake.app.ready();
  const runtime = await handle.ready;
  return { fake, runtime, out };
}

describe('headless mode', () => {
  it('serves the API from the main process, with no window, tray or IPC', async () => {
    const { fake, runtime, out } = await startHeadless(['--headless', '--port', '0']);
    const { daemon } = runtime as DesktopRuntime;
    expect(daemon).toBeDefined();
    expect(out[0]).toMatch(new RegExp(`listening on ${daemon!.url}/\\n$`));
    expect(daemon!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${daemon!.url}/health`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { runtime: string }).runtime).toBe('daemon');
    expect(fake.windows).toEqual([]);
    expect(fake.trays).toEqual([]);
    expect(fake.ipcMain.registrations).toEqual([]);
    // A second launch does not open a window here.
    fake.app.emit('second-instance', {}, ['/opt/app'], '/', {});
    expect(fake.windows).toEqual([]);

    await quitAndWait(fake);
    await expect(fetch(`${daemon!.url}/health`)).rejects.toThrow();
  });

  it('requires a token beyond loopback, and creates it 0600 in userData', async () => {
    const { fake, runtime, out } = await startHeadless(['--headless', '--port', '0', '--host', '0.0.0.0']);
    const tokenFile = join(fake.app.getPath('userData'), 'daemon-token');
    expect(out[1]).toContain(`Token in ${tokenFile}`);
    if (process.platform !== 'win32') expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const port = new URL(runtime!.daemon!.url).port;
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    expect(response.status).toBe(401);
  });

  it('exits 1 with the reason when the port is taken', async () => {
    const first = await startHeadless(['--headless', '--port', '0']);
    const port = new URL(first.runtime!.daemon!.url).port;
    const second = await startHeadless(['--headless', '--port', port]);
    expect(second.runtime).toBeUndefined();
    expect(second.fake.app.exitCodes).toEqual([1]);
    expect(second.fake.errorBoxes).toHaveLength(1);
  });

  it('quits, starting nothing, while another instance holds the data folder', async () => {
    const { fake, runtime, out } = await startHeadless(['--headless', '--port', '0'], false);
    expect(runtime).toBeUndefined();
    expect(fake.app.quitted).toBe(true);
    expect(out).toEqual([]);
    expect(existsSync(join(fake.app.getPath('userData'), 'settings.json'))).toBe(false);
  });

  it('exits 2 on a bad port, before taking the lock', async () => {
    const { fake, runtime } = await startHeadless(['--headless', '--port', 'eighty']);
    expect(runtime).toBeUndefined();
    expect(fake.app.exitCodes).toEqual([2]);
    fake.app.quitted = true; // nothing to quit
  });
});
