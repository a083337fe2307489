import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openGatewayStore } from '../../src/core/storage/index.js';
import type { Trace } from '../../src/shared/trace.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';

function oldTrace(id: string, daysAgo: number): Trace {
  const at = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
  return {
    id, startedAt: at, endedAt: at, tenant: 'test', profileVersion: 1, clientKeyId: 'k', route: 'openai.chat', method: 'POST',
    modelRequested: 'gpt-4.1-mini', providerId: 'openai', providerRegion: 'us', modelUsed: 'gpt-4.1-mini', credentialFingerprint: 'deadbeef',
    status: 200, errorCode: null, latencyMs: 1, ttftMs: null, streamed: false,
    usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: null, cacheWriteTokens: null }, costUsd: 0, costNote: null,
    attempts: [], decisions: [], warnings: [],
  };
}

let t: TestGateway | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('logging.retentionDays', () => {
  it('prunes what is older when the gateway starts, and the audit chain still verifies', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'asc-ret-'));
    try {
      const seed = openGatewayStore({ dataDir });
      seed.recordTrace(oldTrace('old-1', 40));
      seed.recordTrace(oldTrace('old-2', 35));
      seed.recordTrace(oldTrace('recent', 2));
      seed.close();

      t = await startTestGateway({ profile: { logging: { retentionDays: 30 } }, dataDir });
      const ids = t.gateway.store.recentTraces(10).map((x) => x.id);
      expect(ids).toContain('recent');
      expect(ids).not.toContain('old-1');
      expect(ids).not.toContain('old-2');
      expect(t.gateway.store.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
