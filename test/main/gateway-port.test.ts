import { describe, expect, it } from 'vitest';
import { resolveGatewayPort } from '../../src/main/gateway-port.js';

describe('resolveGatewayPort', () => {
  it('uses the default when ASC_PORT is unset or empty', () => {
    expect(resolveGatewayPort({}, 4141)).toBe(4141);
    expect(resolveGatewayPort({ ASC_PORT: '' }, 4141)).toBe(4141);
  });

  it('takes ASC_PORT when it is a valid port, including 0 for "any free port"', () => {
    expect(resolveGatewayPort({ ASC_PORT: '8080' }, 4141)).toBe(8080);
    expect(resolveGatewayPort({ ASC_PORT: '0' }, 4141)).toBe(0);
  });

  it('refuses a malformed ASC_PORT instead of silently using another port', () => {
    for (const bad of ['abc', '-1', '65536', '80.5', ' 80', '0x50']) {
      expect(() => resolveGatewayPort({ ASC_PORT: bad }, 4141), bad).toThrow(/ASC_PORT/);
    }
  });
});
