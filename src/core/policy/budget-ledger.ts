import type { Budget } from '../../shared/policy-schema.js';
import type { Decision } from '../../shared/trace.js';
import { GatewayError } from '../gateway-error.js';

/**
 * Spend per tenant and budget window, in memory. Admission reserves the request's estimated cost
 * and reconciliation swaps it for the real cost, so concurrent requests cannot all slip under a
 * limit: no request is admitted once spend + open reservations ≥ limit. The overshoot is therefore
 * bounded by the reservations open when the limit was crossed (each ≤ the reservation ceiling),
 * plus any request whose real cost exceeded its reservation.
 *
 * Window keys: `day:YYYY-MM-DD` / `month:YYYY-MM`, followed by `@Zone` when the budget names an
 * IANA time zone (`day:2026-11-27@Europe/Paris`); UTC otherwise. Storage seeds each key with the
 * spend it already recorded (`seed`). A request is billed to the windows current at admission,
 * even if it ends after midnight.
 */

/** What one request may reserve when the profile sets no `reservationCeilingUsd`. */
export const DEFAULT_RESERVATION_CEILING_USD = 0.5;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      calendar: 'gregory',
      numberingSystem: 'latn',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws RangeError for a time zone the runtime does not know (call at profile compile time). */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function ymd(nowMs: number, timeZone: string | undefined): { y: string; m: string; d: string } {
  if (timeZone === undefined) {
    const iso = new Date(nowMs).toISOString();
    return { y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10) };
  }
  let y = '';
  let m = '';
  let d = '';
  for (const p of formatterFor(timeZone).formatToParts(nowMs)) {
    if (p.type === 'year') y = p.value;
    else if (p.type === 'month') m = p.value;
    else if (p.type === 'day') d = p.value;
  }
  return { y, m, d };
}

export function windowKeyFor(budget: Pick<Budget, 'window' | 'timeZone'>, nowMs: number): string {
  // Every request asks; a window (in any zone, whole-minute offsets) can only change on a minute.
  // Kept per budget object: a profile's budgets are the same objects request after request.
  const minute = Math.floor(nowMs / 60_000);
  const hit = windowKeyCache.get(budget);
  if (hit !== undefined && hit.minute === minute && hit.window === budget.window && hit.timeZone === budget.timeZone) return hit.key;
  const { y, m, d } = ymd(nowMs, budget.timeZone);
  const zone = budget.timeZone === undefined ? '' : `@${budget.timeZone}`;
  const key = budget.window === 'day' ? `day:${y}-${m}-${d}${zone}` : `month:${y}-${m}${zone}`;
  windowKeyCache.set(budget, { minute, window: budget.window, timeZone: budget.timeZone, key });
  return key;
}
const windowKeyCache = new WeakMap<object, { minute: number; window: Budget['window']; timeZone: string | undefined; key: string }>();

export interface BudgetReservation {
  readonly tenant: string;
  readonly usd: number;
  readonly windowKeys: readonly string[];
  settled: boolean;
}

export type BudgetAdmitResult =
  | { ok: true; reservation: BudgetReservation; decisions: Decision[] }
  | { ok: false; error: GatewayError; decisions: Decision[] };

export interface BudgetAdmitOptions {
  reservationCeilingUsd?: number | undefined;
}

/** Amounts are kept in integer nano-dollars so thousands of small additions do not drift. */
interface WindowState {
  spentNano: number;
  reservedNano: number;
}

const NANO = 1e9;
const toNano = (usd: number): number => Math.round(usd * NANO);
const toUsd = (nano: number): number => nano / NANO;

const fmtUsd = (usd: number): string => `$${usd.toFixed(usd < 1 ? 4 : 2)}`;

export class BudgetLedger {
  /** tenant -> window key -> state. */
  private readonly tenants = new Map<string, Map<string, WindowState>>();

  private stateOf(tenant: string, key: string): WindowState {
    let windows = this.tenants.get(tenant);
    if (!windows) {
      windows = new Map();
      this.tenants.set(tenant, windows);
    }
    let s = windows.get(key);
    if (!s) {
      s = { spentNano: 0, reservedNano: 0 };
      windows.set(key, s);
    }
    return s;
  }

  /** Adds spend already recorded elsewhere (e.g. summed from SQLite at start). */
  seed(tenant: string, windowKey: string, usd: number): void {
    if (!(usd >= 0)) return;
    this.stateOf(tenant, windowKey).spentNano += toNano(usd);
  }

  /** Spend and open reservations for one window (zeros when unknown). */
  snapshot(tenant: string, windowKey: string): { spentUsd: number; reservedUsd: number } {
    const s = this.tenants.get(tenant)?.get(windowKey);
    return { spentUsd: toUsd(s?.spentNano ?? 0), reservedUsd: toUsd(s?.reservedNano ?? 0) };
  }

  /**
   * Admits a request against every budget of the tenant. `estimatedUsd` is the priced worst case
   * (estimated input + output limit), `null` when the model is unpriced: then the ceiling is
   * reserved, the conservative choice.
   */
  admit(
    tenant: string,
    budgets: readonly Budget[] | undefined,
    estimatedUsd: number | null,
    nowMs: number,
    options: BudgetAdmitOptions = {},
  ): BudgetAdmitResult {
    const decisions: Decision[] = [];
    const ceiling = options.reservationCeilingUsd ?? DEFAULT_RESERVATION_CEILING_USD;
    const reserveUsd = Math.min(Math.max(0, estimatedUsd ?? ceiling), ceiling);
    if (!budgets || budgets.length === 0) {
      return { ok: true, reservation: { tenant, usd: 0, windowKeys: [], settled: false }, decisions };
    }

    const keys: string[] = [];
    const states: WindowState[] = [];
    for (const b of budgets) {
      const key = windowKeyFor(b, nowMs);
      const s = this.stateOf(tenant, key);
      if (s.spentNano + s.reservedNano >= toNano(b.usd)) {
        const spentUsd = toUsd(s.spentNano);
        const reservedUsd = toUsd(s.reservedNano);
        const rule = `budget.${b.window}`;
        const detail = `${b.window} budget ${fmtUsd(b.usd)} reached in window ${key}: ${fmtUsd(spentUsd)} spent, ${fmtUsd(reservedUsd)} reserved`;
        if (b.action === 'block') {
          decisions.push({ rule, outcome: 'deny', detail });
          return {
            ok: false,
            decisions,
            error: new GatewayError(
              'budget_exceeded',
              `The ${b.window === 'day' ? 'daily' : 'monthly'} budget of ${fmtUsd(b.usd)} for tenant "${tenant}" is used up ` +
                `(window ${key}: ${fmtUsd(spentUsd)} spent, ${fmtUsd(reservedUsd)} reserved by requests in flight).`,
            ),
          };
        }
        decisions.push({ rule, outcome: 'warn', detail });
      }
      if (!keys.includes(key)) {
        keys.push(key);
        states.push(s);
      }
    }
    this.pruneStale(tenant, keys);
    const reserveNano = toNano(reserveUsd);
    for (const s of states) s.reservedNano += reserveNano;
    return { ok: true, reservation: { tenant, usd: reserveUsd, windowKeys: keys, settled: false }, decisions };
  }

  /**
   * Swaps the reservation for the real cost. `null` (cost unknown: unpriced model or no usage)
   * charges the reservation itself rather than nothing.
   */
  reconcile(reservation: BudgetReservation, actualUsd: number | null): void {
    if (reservation.settled) return;
    reservation.settled = true;
    const reservedNano = toNano(reservation.usd);
    const chargeNano = actualUsd === null ? reservedNano : toNano(Math.max(0, actualUsd));
    for (const key of reservation.windowKeys) {
      const s = this.stateOf(reservation.tenant, key);
      s.reservedNano = Math.max(0, s.reservedNano - reservedNano);
      s.spentNano += chargeNano;
    }
  }

  /** The request failed before any provider charged for it. */
  release(reservation: BudgetReservation): void {
    this.reconcile(reservation, 0);
  }

  /** Drops past windows with nothing in flight, so memory stays at a few keys per tenant. */
  private pruneStale(tenant: string, currentKeys: readonly string[]): void {
    const windows = this.tenants.get(tenant);
    if (!windows || windows.size <= currentKeys.length) return;
    const current = new Set(currentKeys);
    // Only prune keys of the same window kind and zone as a current key (other budgets may use others).
    const families = new Set(currentKeys.map(familyOf));
    for (const [key, s] of windows) {
      if (!current.has(key) && families.has(familyOf(key)) && s.reservedNano === 0) windows.delete(key);
    }
  }
}

function familyOf(key: string): string {
  const colon = key.indexOf(':');
  const at = key.indexOf('@');
  return `${key.slice(0, colon)}${at === -1 ? '' : key.slice(at)}`;
}
