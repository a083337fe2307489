// The `asc` executable: process wiring only; the commands live in run-cli.ts.
import type { CliIo } from './cli-command.js';
import { runCli } from './run-cli.js';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      process.stderr.write('paste the key, then press Ctrl-D:\n');
    }
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => {
      data += c;
      if (data.length > 64 * 1024) reject(new Error('stdin is larger than 64 KiB; expected one key'));
    });
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin,
  env: process.env,
};

runCli(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`asc: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
