import { describe, expect, it } from 'vitest';
import type { Budget } from '../../../src/shared/policy-schema.js';
import { BudgetLedger, DEFAULT_RESERVATION_CEILING_USD, windowKeyFor } from '../../../src/core/policy/index.js';

const NOW = Date.UTC(2026, 10, 27, 23, 30, 0); // 2026-11-27 23:30 UTC
const daily = (usd: number, action: Budget['action'] = 'block'): Budget => ({ window: 'day', usd, action });

describe('budget windows', () => {
  it('day and month windows are UTC by default', () => {
    expect(windowKeyFor({ window: 'day' }, NOW)).toBe('day:2026-11-27');
    expect(windowKeyFor({ window: 'month' }, NOW)).toBe('month:2026-11');
  });
  it('a budget with a time zone counts its window in that zone', () => {
    expect(windowKeyFor({ window: 'day', timeZone: 'Europe/Paris' }, NOW)).toBe('day:2026-11-28@Europe/Paris');
    expect(windowKeyFor({ window: 'month', timeZone: 'America/Los_Angeles' }, Date.UTC(2026, 11, 1, 5))).toBe('month:2026-11@America/Los_Angeles');
  });
  it('a budget asked again gets the window of the time asked, and of what it says now', () => {
    const budget: Pick<Budget, 'window' | 'timeZone'> = { window: 'day' };
    expect(windowKeyFor(budget, NOW)).toBe('day:2026-11-27');
    expect(windowKeyFor(budget, NOW + 31 * 60_000)).toBe('day:2026-11-28');
    budget.timeZone = 'America/Los_Angeles';
    expect(windowKeyFor(budget, NOW + 31 * 60_000)).toBe('day:2026-11-27@America/Los_Angeles');
    budget.window = 'month';
    expect(windowKeyFor(budget, NOW + 31 * 60_000)).toBe('month:2026-11@America/Los_Angeles');
  });
});

describe('BudgetLedger', () => {
  it('a budget that holds 5 admits 5 of 20 concurrent requests', () => {
    const ledger = new BudgetLedger();
    const results = Array.from({ length: 20 }, () => ledger.admit('acme', [daily(1)], 0.2, NOW));
    const admitted = results.filter((r) => r.ok);
    expect(admitted).toHaveLength(5);
    const denied = results.find((r) => !r.ok);
    expect(denied && !denied.ok && denied.error.code).toBe('budget_exceeded');
  });

  it('overshoot after reconcile is bounded by the open reservations', () => {
    const ledger = new BudgetLedger();
    const reservations = Array.from({ length: 20 }, () => ledger.admit('acme', [daily(1)], 0.2, NOW))
      .flatMap((r) => (r.ok ? [r.reservation] : []));
    // Each request ends up costing 50% more than it reserved (estimate too low).
    for (const r of reservations) ledger.reconcile(r, 0.3);
    const { spentUsd, reservedUsd } = ledger.snapshot('acme', 'day:2026-11-27');
    expect(reservedUsd).toBe(0);
    expect(spentUsd).toBeCloseTo(1.5);
    expect(spentUsd).toBeLessThanOrEqual(1 + reservations.length * 0.3);
    expect(ledger.admit('acme', [daily(1)], 0.01, NOW).ok).toBe(false);
  });

  it('reconciling below the reservation frees budget for the next request', () => {
    const ledger = new BudgetLedger();
    const first = ledger.admit('acme', [daily(0.5)], 0.5, NOW);
    expect(ledger.admit('acme', [daily(0.5)], 0.01, NOW).ok).toBe(false);
    if (!first.ok) throw new Error('expected admission');
    ledger.reconcile(first.reservation, 0.1);
    expect(ledger.admit('acme', [daily(0.5)], 0.01, NOW).ok).toBe(true);
  });

  it('a block budget names its window, limit and spend, and is a 429 budget_exceeded', () => {
    const ledger = new BudgetLedger();
    ledger.seed('acme', 'day:2026-11-27', 12.5);
    const r = ledger.admit('acme', [daily(10)], 0.01, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('budget_exceeded');
    expect(r.error.status).toBe(429);
    expect(r.error.message).toContain('daily');
    expect(r.error.message).toContain('$10.00');
    expect(r.error.message).toContain('$12.50');
    expect(r.error.message).toContain('day:2026-11-27');
    expect(r.decisions[0]).toMatchObject({ rule: 'budget.day', outcome: 'deny' });
  });

  it('a warn budget records a warning and serves the request', () => {
    const ledger = new BudgetLedger();
    ledger.seed('acme', 'month:2026-11', 100);
    const r = ledger.admit('acme', [{ window: 'month', usd: 50, action: 'warn' }], 0.01, NOW);
    expect(r.ok).toBe(true);
    expect(r.decisions).toEqual([expect.objectContaining({ rule: 'budget.month', outcome: 'warn' })]);
  });

  it('seeded spend from storage counts against the limit', () => {
    const ledger = new BudgetLedger();
    ledger.seed('acme', 'day:2026-11-27', 0.9);
    expect(ledger.admit('acme', [daily(1)], 0.2, NOW).ok).toBe(true);
    expect(ledger.admit('acme', [daily(1)], 0.2, NOW).ok).toBe(false);
  });

  it('spend in yesterday’s window does not count today', () => {
    const ledger = new BudgetLedger();
    ledger.seed('acme', 'day:2026-11-26', 100);
    expect(ledger.admit('acme', [daily(1)], 0.2, NOW).ok).toBe(true);
  });

  it('a reservation is capped by the profile ceiling, and an unpriced request reserves the ceiling', () => {
    const ledger = new BudgetLedger();
    const big = ledger.admit('acme', [daily(100)], 40, NOW, { reservationCeilingUsd: 2 });
    expect(big.ok && big.reservation.usd).toBe(2);
    const unpriced = ledger.admit('acme', [daily(100)], null, NOW);
    expect(unpriced.ok && unpriced.reservation.usd).toBe(DEFAULT_RESERVATION_CEILING_USD);
  });

  it('an unknown real cost charges the reservation, and a released request charges nothing', () => {
    const ledger = new BudgetLedger();
    const a = ledger.admit('acme', [daily(10)], 0.3, NOW);
    const b = ledger.admit('acme', [daily(10)], 0.3, NOW);
    if (!a.ok || !b.ok) throw new Error('expected admission');
    ledger.reconcile(a.reservation, null);
    ledger.release(b.reservation);
    expect(ledger.snapshot('acme', 'day:2026-11-27')).toEqual({ spentUsd: 0.3, reservedUsd: 0 });
  });

  it('every budget of the tenant must have room: a full month blocks even with room today', () => {
    const ledger = new BudgetLedger();
    ledger.seed('acme', 'month:2026-11', 50);
    const r = ledger.admit('acme', [daily(10), { window: 'month', usd: 50, action: 'block' }], 0.1, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('monthly');
  });
});
