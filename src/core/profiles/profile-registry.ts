import type { PolicyDocument, Profile } from '../../shared/policy-schema.js';
import { GatewayError } from '../gateway-error.js';

export interface ProfileSnapshot<C> {
  readonly profile: Profile;
  readonly compiled: C;
}

interface RegistryState<C> {
  readonly byTenant: ReadonlyMap<string, ProfileSnapshot<C>>;
  readonly active: string;
}

export interface ProfileRegistry<C> {
  /** The profile a request runs under: `x-asc-tenant` when given, else the active one. */
  resolve(tenant: string | undefined): ProfileSnapshot<C>;
  active(): ProfileSnapshot<C>;
  list(): { tenant: string; version: number; active: boolean }[];
  /** Replaces every profile at once; requests already admitted keep the snapshot they took. */
  load(doc: PolicyDocument): void;
  setActive(tenant: string): void;
}

/**
 * Holds compiled profiles in one immutable state object swapped as a whole, so a request that
 * read the state once never sees half of a change.
 */
export function createProfileRegistry<C>(doc: PolicyDocument, compile: (profile: Profile) => C): ProfileRegistry<C> {
  let state = build(doc);

  function build(d: PolicyDocument, active = d.active): RegistryState<C> {
    const byTenant = new Map<string, ProfileSnapshot<C>>();
    for (const profile of d.profiles) byTenant.set(profile.tenant, Object.freeze({ profile, compiled: compile(profile) }));
    if (!byTenant.has(active)) throw new Error(`no profile has tenant "${active}"`);
    return { byTenant, active };
  }

  return {
    resolve(tenant) {
      const s = state;
      if (tenant === undefined || tenant === '') return s.byTenant.get(s.active)!;
      const snap = s.byTenant.get(tenant);
      if (!snap) throw new GatewayError('unknown_tenant', `No loaded profile has tenant "${tenant}" (x-asc-tenant). Loaded: ${[...s.byTenant.keys()].join(', ')}.`);
      return snap;
    },
    active: () => state.byTenant.get(state.active)!,
    list: () => [...state.byTenant.values()].map((s) => ({ tenant: s.profile.tenant, version: s.profile.version, active: s.profile.tenant === state.active })),
    load(d) {
      state = build(d, d.profiles.some((p) => p.tenant === state.active) ? state.active : d.active);
    },
    setActive(tenant) {
      if (!state.byTenant.has(tenant)) throw new GatewayError('unknown_tenant', `No loaded profile has tenant "${tenant}".`);
      state = { byTenant: state.byTenant, active: tenant };
    },
  };
}
