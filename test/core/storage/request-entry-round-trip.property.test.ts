import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, mapTraceToAuditEvent, openGatewayStore } from '../../../src/core/storage/index.js';
import { scrubSecrets } from '../../../src/core/storage/secret-scrub.js';
import type { Trace } from '../../../src/shared/trace.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

const text = fc.string({ unit: fc.oneof(fc.constantFrom('é', '東', '😀', '"', '\\', '\n', '\u2028'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' })), maxLength: 24 });
const maybeText = fc.option(fc.oneof(text, fc.constant('sk-proj-abcdefghijklmnopqrstuvwxyz012345')), { nil: null });
const cost = fc.option(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e-12, 0.1 + 0.2, Number.MAX_VALUE)), { nil: null });
const decision = fc.record({ rule: text, outcome: fc.constantFrom('allow', 'deny', 'redact', 'clamp', 'warn', 'skip') as fc.Arbitrary<Trace['decisions'][number]['outcome']> });

const tracePatch = fc.record({
  modelRequested: maybeText,
  modelUsed: maybeText,
  providerId: maybeText,
  providerRegion: maybeText,
  credentialFingerprint: maybeText,
  clientKeyId: maybeText,
  errorCode: maybeText,
  route: text,
  tenant: fc.option(text, { nil: null }),
  profileVersion: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: null }),
  status: fc.integer({ min: 100, max: 599 }),
  costUsd: cost,
  decisions: fc.array(decision, { maxLength: 4 }),
});

/**
 * A request's audit entry is rebuilt from its trace row when the chain is verified or exported:
 * whatever the trace held (text with quotes and line separators, key-looking text, nulls, any
 * cost), the stored row gives back exactly the detail that was hashed.
 */
describe('request entries held in trace rows', () => {
  it('verify, and export the detail the generic mapping gives, for any trace', () => {
    fc.assert(
      fc.property(fc.array(tracePatch, { minLength: 1, maxLength: 8 }), (patches) => {
        const store = openGatewayStore({ dataDir: dir });
        try {
          const start = store.exportAudit({}).length;
          const traces = patches.map((p, i) => makeTrace({ ...p, startedAt: minutesAfterBase(start + i) }));
          for (const t of traces) store.recordTrace(t);
          expect(store.verifyAudit()).toEqual({ ok: true, entries: start + traces.length });
          const exported = store.exportAudit({}).slice(start);
          expect(exported.map((e) => canonicalJson(e.detail))).toEqual(traces.map((t) => canonicalJson(scrubSecrets(mapTraceToAuditEvent(t).detail))));
          expect(exported.map((e) => e.type)).toEqual(traces.map((t) => mapTraceToAuditEvent(t).type));
        } finally {
          store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
