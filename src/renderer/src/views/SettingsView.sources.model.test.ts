import { describe, expect, it } from 'vitest';
import { IntegrationInputSchema, type Delivery, type SourceHealth } from '@shared/domain';
import { deliveryLine, integrationInput, sourceHealthLine } from './SettingsView.sources.model';

const health: SourceHealth = {
  state: 'running',
  lastSuccessAt: '2026-11-26T23:10:00.412Z',
  lastError: null,
  lastErrorAt: null,
  consecutiveFailures: 0,
  nextRetryAt: null,
  series: 64,
  servers: 8,
  rowsIngested: 2312,
  valuesDropped: 0,
  backfill: null,
  lastPoll: null,
};

describe('settings: sources and integrations', () => {
  it('says how a source is doing', () => {
    expect(sourceHealthLine(health)).toBe('8 servers, 64 series, read 23:10:00 UTC');
    expect(
      sourceHealthLine({ ...health, state: 'failing', consecutiveFailures: 3, lastError: 'cpu_percent: /api/v1/query: connection failed (ECONNREFUSED)', nextRetryAt: '2026-11-26T23:10:04.000Z' }),
    ).toBe('Failing (3×): cpu_percent: /api/v1/query: connection failed (ECONNREFUSED); retry at 23:10:04 UTC');
  });

  it('leaves an empty secret out so the core keeps the stored one, and builds valid inputs', () => {
    const pd = integrationInput({ kind: 'pagerduty', id: ' oncall ', url: '', routingKey: '', minSeverity: 'critical' });
    expect(pd).toEqual({ kind: 'pagerduty', id: 'oncall', minSeverity: 'critical' });
    expect(IntegrationInputSchema.safeParse(pd).success).toBe(true);
    const slack = integrationInput({ kind: 'slack', id: 'slack', url: 'https://hooks.slack.com/services/T/B/X', routingKey: 'ignored', minSeverity: 'warning' });
    expect(slack).toEqual({ kind: 'slack', id: 'slack', url: 'https://hooks.slack.com/services/T/B/X', minSeverity: 'warning' });
    expect(IntegrationInputSchema.safeParse(integrationInput({ kind: 'alertmanager', id: 'am', url: '', routingKey: '', minSeverity: 'warning' })).success).toBe(false);
  });

  it('describes a delivery', () => {
    const d: Delivery = {
      id: 'x',
      integrationId: 'hook',
      kind: 'webhook',
      event: 'firing',
      alertId: 7,
      server: 'ppdb001',
      severity: 'critical',
      state: 'retrying',
      attempts: 3,
      createdAt: '2026-11-26T23:10:00.000Z',
      lastAttemptAt: '2026-11-26T23:10:03.000Z',
      nextAttemptAt: '2026-11-26T23:10:07.000Z',
      deliveredAt: null,
      httpStatus: null,
      error: 'connection failed (ECONNREFUSED)',
    };
    expect(deliveryLine(d)).toBe('firing critical ppdb001: retrying (3 attempts, next 23:10:07 UTC)');
    expect(deliveryLine({ ...d, event: 'test', state: 'delivered', attempts: 1 })).toBe('test alert: delivered');
  });
});
