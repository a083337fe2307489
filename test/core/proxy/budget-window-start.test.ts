import { describe, expect, it } from 'vitest';
import { budgetWindowStartMs } from '../../../src/core/proxy/policy-guard.js';

const at = Date.UTC(2026, 10, 27, 10, 30, 0); // 2026-11-27T10:30Z

describe('where a budget window starts (for seeding spend after a restart)', () => {
  it('a UTC day starts at midnight UTC', () => {
    expect(new Date(budgetWindowStartMs({ window: 'day' }, at)).toISOString()).toBe('2026-11-27T00:00:00.000Z');
  });

  it('a UTC month starts on the first at midnight UTC', () => {
    expect(new Date(budgetWindowStartMs({ window: 'month' }, at)).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });

  it('a day in a named time zone starts at that zone’s midnight', () => {
    // Paris is UTC+1 in November: local midnight is 23:00 UTC the day before.
    expect(new Date(budgetWindowStartMs({ window: 'day', timeZone: 'Europe/Paris' }, at)).toISOString()).toBe('2026-11-26T23:00:00.000Z');
    // Just after local midnight the window is already the new day.
    const early = Date.UTC(2026, 10, 26, 23, 30);
    expect(new Date(budgetWindowStartMs({ window: 'day', timeZone: 'Europe/Paris' }, early)).toISOString()).toBe('2026-11-26T23:00:00.000Z');
  });

  it('a month west of UTC starts on the local first', () => {
    expect(new Date(budgetWindowStartMs({ window: 'month', timeZone: 'America/New_York' }, at)).toISOString()).toBe('2026-11-01T04:00:00.000Z');
  });
});
