import { auditExportCommand, auditQueryCommand, auditVerifyCommand } from './commands/audit.js';
import { profilesListCommand, profilesUseCommand } from './commands/profiles.js';
import { keyCommand, keysDeleteCommand, keysListCommand, keysSetCommand } from './commands/keys.js';
import { serveCommand } from './commands/serve.js';
import { spendCommand } from './commands/spend.js';
import { tracesCommand } from './commands/traces.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIo } from './cli-command.js';

export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  keyCommand,
  keysSetCommand,
  keysListCommand,
  keysDeleteCommand,
  profilesListCommand,
  profilesUseCommand,
  tracesCommand,
  spendCommand,
  auditVerifyCommand,
  auditExportCommand,
  auditQueryCommand,
];

function usage(commands: readonly CliCommand[], prefix: string[] = []): string {
  const lines = commands
    .filter((c) => prefix.every((p, i) => c.path[i] === p))
    .map((c) => `  asc ${c.path.join(' ').padEnd(14)} ${c.summary}`);
  return `Usage: asc <command> [options]   (asc <command> --help for details)\n\nCommands:\n${lines.join('\n')}\n`;
}

function commandHelp(cmd: CliCommand): string {
  const opts = Object.entries(cmd.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}`);
  return `Usage: asc ${cmd.path.join(' ')} ${cmd.usage}\n\n${cmd.summary}\n${opts.length ? `\nOptions:\n${opts.join('\n')}\n  --help\n` : '\nOptions:\n  --help\n'}`;
}

/** Runs one CLI invocation; returns the exit code. Never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.stderr : io.stdout)(usage(commands));
    return argv.length === 0 ? 2 : 0;
  }
  // Longest command path that matches the leading words.
  const cmd = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => argv[i] === word));
  if (cmd === undefined) {
    const group = commands.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0) {
      if (argv.includes('--help') || argv.length === 1) {
        (argv.includes('--help') ? io.stdout : io.stderr)(usage(group, [argv[0]!]));
        return argv.includes('--help') ? 0 : 2;
      }
      io.stderr(`asc: unknown command "${argv.slice(0, 2).join(' ')}" (see: asc ${argv[0]} --help)\n`);
      return 2;
    }
    io.stderr(`asc: unknown command "${argv[0]}" (see: asc --help)\n`);
    return 2;
  }
  const rest = argv.slice(cmd.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(parseCommandArgs(cmd, rest), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`asc ${cmd.path.join(' ')}: ${e.message}\n`);
      return 2;
    }
    io.stderr(`asc ${cmd.path.join(' ')}: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}
