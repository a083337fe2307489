import { resolveDataDir } from '../../core/data-dir.js';
import { PolicyFileError } from '../../core/profiles/policy-file.js';
import { DATA_DIR_OPTION, intOption, UsageError, type CliCommand } from '../cli-command.js';

export const serveCommand: CliCommand = {
  path: ['serve'],
  summary: 'start the gateway on a loopback port',
  usage: '[--host 127.0.0.1] [--port 4141] [--data-dir DIR] [--policy FILE]',
  options: { host: { type: 'string' }, port: { type: 'string' }, policy: { type: 'string' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    // Loaded here, not at the top: the other commands start faster without fastify and undici.
    const { startGateway, DEFAULT_PORT } = await import('../../core/gateway.js');
    const port = intOption(values.port, 'port', { min: 0, max: 65535 }) ?? DEFAULT_PORT;
    const host = (values.host as string | undefined) ?? '127.0.0.1';
    if (host.length === 0) throw new UsageError('--host must not be empty');
    let gateway;
    try {
      gateway = await startGateway({
        dataDir: resolveDataDir(values['data-dir'] as string | undefined, io.env),
        policyFile: values.policy as string | undefined,
        host,
        port,
        env: io.env,
        log: (line) => io.stderr(`${line}\n`),
      });
    } catch (e) {
      if (e instanceof PolicyFileError) throw new UsageError(e.message);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is already in use (try --port 0 for a free one)`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on host "${host}"`);
      throw e;
    }
    io.stdout(`ASC gateway listening on ${gateway.url}\n`);

    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await gateway.close(10_000);
    return 0;
  },
};
