import { createRequire } from 'node:module';
import type { Logger } from 'pino';

/** What the gateway logs: unexpected failures only (requests themselves are traces, not log lines). */
export interface ErrorLogger {
  error(fields: Record<string, unknown>, message: string): void;
  flush(): void;
}

/**
 * pino, to stderr, created on the first error: a gateway that never fails never pays for loading
 * it (a few MB of an idle process). Credentials and client keys are redacted should a caller ever
 * pass request headers.
 */
export function createLazyErrorLogger(level: string): ErrorLogger {
  let logger: Logger | null = null;
  const get = (): Logger => {
    if (logger === null) {
      // Required synchronously so the first error is written in order with what follows.
      const { pino, destination } = createRequire(import.meta.url)('pino') as typeof import('pino');
      logger = pino(
        {
          level,
          redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.secret', '*.apiKey'], censor: '[redacted]' },
        },
        destination({ fd: 2, sync: false }),
      );
    }
    return logger as Logger;
  };
  return {
    error: (fields, message) => get().error(fields, message),
    flush: () => logger?.flush(),
  };
}
