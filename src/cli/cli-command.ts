import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes. Tests pass buffers; the real CLI passes process streams. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** Words that select the command, e.g. ['keys', 'set']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Usage text printed by --help, without the leading "Usage: asc". */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly positionals?: { min: number; max: number };
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A user mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandArgs(cmd: CliCommand, argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see: asc ${cmd.path.join(' ')} --help)`);
  }
  const { min, max } = cmd.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new UsageError(`wrong number of arguments: usage: asc ${cmd.path.join(' ')} ${cmd.usage}`);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

export function intOption(value: string | boolean | undefined, name: string, opts: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < opts.min || n > opts.max) {
    throw new UsageError(`--${name} must be an integer between ${opts.min} and ${opts.max}, got "${String(value)}"`);
  }
  return n;
}

/** Options every data-reading command accepts. */
export const DATA_DIR_OPTION = { 'data-dir': { type: 'string' } } as const;
