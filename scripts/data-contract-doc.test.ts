import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_CONTRACT_VERSION, STEP_SECONDS } from '../src/shared/contract/metrics';
import { inferProfile } from '../src/shared/contract/metrics';
import { serverId } from '../src/main/core/metrics/server-encoding';
import { metricTable, profileTable, stateList } from './data-contract-doc';

const doc = readFileSync(resolve(__dirname, '../docs/data-contract.md'), 'utf8');

describe('docs/data-contract.md agrees with the code', () => {
  it('has the metric table as the contract defines it', () => expect(doc).toContain(metricTable()));
  it('has the profile prefix table', () => expect(doc).toContain(profileTable()));
  it('lists the states', () => expect(doc).toContain(stateList()));
  it('shows server ids and profiles that the encoding really produces', () => {
    const block = /```json\n(\{\n {2}"contractVersion"[\s\S]*?)\n```/.exec(doc)?.[1];
    const mapping = JSON.parse(block!) as { servers: { name: string; id: number; profile: string }[] };
    for (const s of mapping.servers) {
      expect(s.id).toBe(serverId(s.name));
      expect(s.profile).toBe(inferProfile(s.name));
    }
  });

  it('states the version and the step', () => {
    expect(doc).toContain(`Version **${DATA_CONTRACT_VERSION}**`);
    expect(doc).toContain(`every ${STEP_SECONDS / 60} minutes`);
  });
});
