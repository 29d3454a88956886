// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Layer rules (ARCHITECTURE.md): imports only flow downwards.
 *   shared   -> nothing but itself (no node:, no electron, no DOM-only packages)
 *   core     -> shared (never electron, desktop, daemon, cli)
 *   daemon   -> core, shared (never electron, desktop)
 *   desktop  -> core, shared, electron (desktop/headless.ts also daemon: the app's headless
 *               mode is the daemon, run in the Electron main process)
 *   cli      -> core, daemon, shared (never electron, desktop)
 *   preload  -> shared, electron
 *   renderer -> shared and itself only
 */
// Matched as whole module names, so './events' is not mistaken for node's 'events'.
const nodeBuiltins = (message) => ({
  regex: `^(node:.*|${builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace('/', '\\/')).join('|')})$`,
  message,
});
const layer = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});
// One module owns onnxruntime-node (one session, input checks, provider fallback).
const INFER = 'src/main/core/model/infer/**';
// The desktop app's headless mode (`--headless --port N`) is the daemon in the Electron main process.
const HEADLESS = 'src/main/desktop/headless.ts';
const onnxOnlyInInfer = () =>
  deny(['onnxruntime-node', 'onnxruntime-*'], 'only src/main/core/model/infer imports onnxruntime: it owns the session and the provider fallback.');
const deny = (group, message) => ({ group, message });

export default tseslint.config(
  {
    ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', 'coverage/**', 'e2e/screenshots/**', 'resources/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always'],
      'no-restricted-properties': [
        'error',
        ...['describe', 'it', 'test'].map((object) => ({ object, property: 'only', message: 'No focused tests: they silently skip the rest.' })),
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test.tsx', 'e2e/**/*.ts'],
    rules: {
      // Tests reach into results freely; the assertions are the type checks.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    files: ['*.mjs', '*.config.ts', 'scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  layer(['src/shared/**'], [
    nodeBuiltins('src/shared is pure TypeScript: no Node built-ins.'),
    deny(['electron', 'react', 'react-dom', 'echarts', 'fastify', '@fastify/*', 'ws', 'better-sqlite3', 'onnxruntime-node'], 'src/shared is pure TypeScript: no platform packages.'),
    deny(['**/main/**', '**/renderer/**', '**/preload/**', '../main/*', '../renderer/*', '../preload/*'], 'src/shared imports only itself.'),
  ]),
  ...[false, true].map((isInfer) =>
    layer(
      isInfer ? [INFER] : ['src/main/core/**'],
      [
        deny(['electron'], 'core never imports electron: it runs in the headless daemon too.'),
        deny(['**/desktop/**', '**/daemon/**', '**/cli/**', '../desktop/*', '../daemon/*', '../cli/*', '../../desktop/*', '../../daemon/*', '../../cli/*'], 'core never imports desktop, daemon or cli.'),
        deny(['**/renderer/**', '**/preload/**'], 'core never imports renderer or preload.'),
        ...(isInfer ? [] : [onnxOnlyInInfer()]),
      ],
      isInfer ? [] : [INFER],
    ),
  ),
  layer(['src/main/daemon/**', 'src/main/cli/**'], [
    deny(['electron'], 'the daemon and the CLI run on plain Node: no electron.'),
    deny(['**/desktop/**', '../desktop/*'], 'the daemon and the CLI never import desktop.'),
    onnxOnlyInInfer(),
    deny(['**/renderer/**', '**/preload/**'], 'the main process never imports renderer or preload code.'),
  ]),
  layer(
    ['src/main/desktop/**'],
    [
      deny(['**/daemon/**', '**/cli/**', '../daemon/*', '../cli/*'], 'desktop does not import daemon or cli (only desktop/headless.ts composes the daemon).'),
      onnxOnlyInInfer(),
      deny(['**/renderer/**', '**/preload/**'], 'the main process never imports renderer or preload code.'),
    ],
    [HEADLESS],
  ),
  layer([HEADLESS], [
    deny(['**/cli/**', '../cli/*'], 'desktop does not import cli.'),
    onnxOnlyInInfer(),
    deny(['**/renderer/**', '**/preload/**'], 'the main process never imports renderer or preload code.'),
  ]),
  layer(['src/preload/**'], [
    nodeBuiltins('the sandboxed preload can only require electron.'),
    deny(['**/main/**', '**/renderer/**', '../main/*', '../renderer/*'], 'the preload imports only electron and shared.'),
  ]),
  layer(['src/renderer/**'], [
    nodeBuiltins('the renderer runs in a sandboxed web page: no Node built-ins.'),
    deny(['electron'], 'the renderer reaches the core only through window.api or HTTP.'),
    deny(['**/main/**', '**/preload/**', '../main/*', '../preload/*', '../../main/*', '../../preload/*'], 'the renderer imports only src/shared and itself.'),
  ]),
);
