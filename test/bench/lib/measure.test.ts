import { describe, expect, it } from 'vitest';
import { mergeSlices, type LoadSample } from '../../../bench/lib/measure.js';

function slice(over: Partial<LoadSample>): LoadSample {
  return {
    rps: 1000,
    p50: 2,
    p99: 8,
    requests: 2000,
    non2xx: 0,
    errors: 0,
    cpuUsPerReq: 70,
    stubCpuUsPerReq: 20,
    peakRssMb: 150,
    loadgenCpuPct: 30,
    otherCpuPct: 0,
    durationS: 2,
    wallMs: 2000,
    ...over,
  };
}

describe('mergeSlices: one load sample from the slices of a load run', () => {
  it('gives req/s over the slices’ total time, not the mean of their rates', () => {
    const m = mergeSlices([slice({ rps: 1000, durationS: 1, requests: 1000 }), slice({ rps: 4000, durationS: 3, requests: 12_000 })]);
    expect(m.rps).toBe((1000 * 1 + 4000 * 3) / 4);
    expect(m.durationS).toBe(4);
    expect(m.requests).toBe(13_000);
  });

  it('weights CPU per request and p50 by requests, CPU shares by wall time', () => {
    const m = mergeSlices([
      slice({ requests: 1000, cpuUsPerReq: 100, stubCpuUsPerReq: 10, p50: 4, wallMs: 1000, loadgenCpuPct: 20 }),
      slice({ requests: 3000, cpuUsPerReq: 60, stubCpuUsPerReq: 30, p50: 2, wallMs: 3000, loadgenCpuPct: 40 }),
    ]);
    expect(m.cpuUsPerReq).toBe((100 * 1000 + 60 * 3000) / 4000);
    expect(m.stubCpuUsPerReq).toBe((10 * 1000 + 30 * 3000) / 4000);
    expect(m.p50).toBe((4 * 1000 + 2 * 3000) / 4000);
    expect(m.loadgenCpuPct).toBe((20 * 1000 + 40 * 3000) / 4000);
  });

  it('keeps the worst slice’s p99 and peak RSS, and sums failures', () => {
    const m = mergeSlices([slice({ p99: 9, peakRssMb: 140, non2xx: 1 }), slice({ p99: 5, peakRssMb: 170, errors: 2 }), slice({ peakRssMb: Number.NaN })]);
    expect(m.p99).toBe(9);
    expect(m.peakRssMb).toBe(170);
    expect(m.non2xx).toBe(1);
    expect(m.errors).toBe(2);
  });

  it('returns a single slice as it is', () => {
    const only = slice({});
    expect(mergeSlices([only])).toBe(only);
  });
});
