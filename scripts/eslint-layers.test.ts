import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * The layer rules of ARCHITECTURE.md live in eslint.config.mjs; this proves they bite. Each case
 * lints a one-line import as if it sat in a given file, with the project's own config (type-aware
 * rules off: the probe files do not exist on disk).
 */
const root = resolve(__dirname, '..');
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], ...tseslint.configs.disableTypeChecked }],
});

async function layerErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport {};\n`, { filePath: resolve(root, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

const forbidden: [file: string, source: string][] = [
  ['src/shared/contract/probe.ts', "import 'node:fs';"],
  ['src/shared/contract/probe.ts', "import 'path';"],
  ['src/shared/contract/probe.ts', "import 'electron';"],
  ['src/shared/contract/probe.ts', "import '../../main/core/app';"],
  ['src/main/core/probe.ts', "import 'electron';"],
  ['src/main/core/probe.ts', "import '../desktop/main';"],
  ['src/main/core/fleet/probe.ts', "import '../../daemon/server';"],
  ['src/main/core/probe.ts', "import '../cli/main';"],
  ['src/main/daemon/probe.ts', "import 'electron';"],
  ['src/main/daemon/probe.ts', "import '../desktop/main';"],
  ['src/main/cli/probe.ts', "import 'electron';"],
  ['src/preload/probe.ts', "import 'node:fs';"],
  ['src/preload/probe.ts', "import '../main/core/app';"],
  ['src/renderer/src/probe.ts', "import 'electron';"],
  ['src/renderer/src/probe.ts', "import 'node:os';"],
  ['src/renderer/src/probe.ts', "import '../../main/core/app';"],
  ['src/renderer/src/views/probe.tsx', "import '../../../preload/index';"],
  ['src/main/core/fleet/probe.ts', "import 'onnxruntime-node';"],
  ['src/main/core/model/tft/probe.ts', "import 'onnxruntime-node';"],
  ['src/main/daemon/probe.ts', "import 'onnxruntime-node';"],
  ['src/main/desktop/probe.ts', "import 'onnxruntime-node';"],
  ['src/main/desktop/probe.ts', "import '../daemon/server';"],
  ['src/main/desktop/headless.ts', "import '../cli/main';"],
  ['src/main/desktop/headless.ts', "import 'onnxruntime-node';"],
  ['src/main/core/model/infer/probe.ts', "import 'electron';"],
];

const allowed: [file: string, source: string][] = [
  ['src/shared/contract/probe.ts', "import './events';"],
  ['src/shared/contract/probe.ts', "import 'zod';"],
  ['src/main/core/probe.ts', "import 'node:fs'; import '@shared/contract';"],
  ['src/main/daemon/probe.ts', "import '../core/app'; import 'fastify';"],
  ['src/main/desktop/probe.ts', "import 'electron'; import '../core/app';"],
  ['src/main/desktop/headless.ts', "import '../daemon/server'; import '../core/app';"],
  ['src/main/core/model/infer/probe.ts', "import 'onnxruntime-node'; import 'node:os';"],
  ['src/preload/probe.ts', "import 'electron'; import '@shared/contract/ipc';"],
  ['src/renderer/src/probe.ts', "import '@shared/contract'; import 'react'; import './events';"],
];

describe('layer rules in the lint config', () => {
  it.each(forbidden)('%s may not %s', async (file, source) => {
    expect(await layerErrors(file, source)).not.toEqual([]);
  });
  it.each(allowed)('%s may %s', async (file, source) => {
    expect(await layerErrors(file, source)).toEqual([]);
  });
});
