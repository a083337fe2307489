/**
 * The desktop app's gateway port: `ASC_PORT` when set, else the core's default (the port the docs
 * and client examples point at). A malformed value is an error rather than a silent fallback, so
 * clients are never left talking to a port the user did not choose.
 */
export function resolveGatewayPort(env: NodeJS.ProcessEnv, defaultPort: number): number {
  const raw = env.ASC_PORT;
  if (raw === undefined || raw === '') return defaultPort;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) {
    throw new Error(`ASC_PORT must be an integer between 0 and 65535, got "${raw}"`);
  }
  return port;
}
