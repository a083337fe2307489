import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the gateway error logger', () => {
  it('loads pino on the first error and writes one JSON line to stderr, with secrets redacted', () => {
    const code = `
      import { createLazyErrorLogger } from './src/core/http/error-logger.ts';
      const log = createLazyErrorLogger('warn');
      log.error({ reqId: 'r1', req: { headers: { authorization: 'Bearer sk-secret-value', 'x-api-key': 'k-secret' } } }, 'boom');
      log.flush();
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    const line = JSON.parse(res.stderr.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 50, msg: 'boom', reqId: 'r1', req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } } });
    expect(res.stderr).not.toContain('secret');
  });

  it('is silent, and pino unloaded, until something fails', () => {
    const code = `
      import { createRequire } from 'node:module';
      import { createLazyErrorLogger } from './src/core/http/error-logger.ts';
      createLazyErrorLogger('warn');
      const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/pino/'));
      process.stdout.write(String(loaded));
    `;
    expect(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' })).toBe('false');
  });
});
