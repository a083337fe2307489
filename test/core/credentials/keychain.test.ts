import { describe, expect, it } from 'vitest';
import { createOsKeychain, missingSessionBus } from '../../../src/core/credentials/keychain.js';

describe('missingSessionBus', () => {
  const none = (): boolean => false;

  it('says why on Linux with no bus address, no per-user bus socket and no display', () => {
    expect(missingSessionBus({}, 'linux', none)).toMatch(/DBUS_SESSION_BUS_ADDRESS is unset/);
    expect(missingSessionBus({ XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux', none)).not.toBeNull();
  });

  it('lets the keychain be asked whenever the D-Bus library could find a session bus', () => {
    expect(missingSessionBus({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/bus' }, 'linux', none)).toBeNull();
    const seen: string[] = [];
    const exists = (p: string): boolean => (seen.push(p), p === '/run/user/1000/bus');
    expect(missingSessionBus({ XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux', exists)).toBeNull();
    expect(seen).toEqual(['/run/user/1000/bus']);
    expect(missingSessionBus({ DISPLAY: ':0' }, 'linux', none)).toBeNull();
  });

  it('never stands in the way on macOS or Windows', () => {
    expect(missingSessionBus({}, 'darwin', none)).toBeNull();
    expect(missingSessionBus({}, 'win32', none)).toBeNull();
  });
});

describe('createOsKeychain', () => {
  it('reports no keychain without loading the native module when no session bus can exist', async () => {
    let loads = 0;
    const keychain = createOsKeychain('asc-test', {
      env: {},
      platform: 'linux',
      loadKeyring: () => {
        loads++;
        return import('@napi-rs/keyring');
      },
    });
    const probe = await keychain.probe();
    expect(probe).toEqual({ available: false, reason: expect.stringMatching(/no D-Bus session bus/) });
    expect(loads).toBe(0);
  });

  it('asks the keychain when a bus address is set, and reports its failure as the reason', async () => {
    let loads = 0;
    class FailingEntry {
      getPassword(): Promise<string | null> {
        return Promise.reject(new Error('Platform failure: DBus error: Failed to connect to socket'));
      }
    }
    const keychain = createOsKeychain('asc-test', {
      env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/asc-test-bus' },
      platform: 'linux',
      loadKeyring: async () => {
        loads++;
        return { AsyncEntry: FailingEntry } as unknown as typeof import('@napi-rs/keyring');
      },
    });
    expect(await keychain.probe()).toEqual({ available: false, reason: 'Platform failure: DBus error: Failed to connect to socket' });
    expect(loads).toBe(1);
  });
});
