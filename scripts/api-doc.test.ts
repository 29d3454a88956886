import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, EVENT_NAMES, METHODS } from '../src/shared/contract';

const doc = readFileSync(resolve(__dirname, '../docs/api.md'), 'utf8');

// docs/api.md documents every method and event with an example; a new one without docs fails here.
describe('docs/api.md covers the contract', () => {
  it.each(METHODS)('documents %s', (method) => {
    expect(doc).toContain(`### \`${method}\``);
    const rest = (api[method] as { rest?: { path: string } }).rest;
    if (rest) expect(doc).toContain(`GET ${rest.path}`);
  });
  it.each(EVENT_NAMES)('documents the %s event', (name) => {
    expect(doc).toContain(`| \`${name}\` |`);
  });
});
