#!/usr/bin/env node
/** The `webmon` command. */
import { readFileSync } from 'node:fs';
import { runWebmon } from './app.js';
import { USAGE_STATUS, WebmonError } from './errors.js';
import { escapeControl } from './logger.js';
import { HELP, parseCommand } from './options.js';
import { PYTHON_DIR } from './serving.js';

const USAGE_HINT = "Run 'webmon --help' for the options and examples.\n";

/**
 * Every usage error (a bad option, value or config file) is thrown here, by `parseCommand`, before
 * `runWebmon` can start Python: a typo costs no simulator start-up and leaves nothing running.
 */
async function main(): Promise<number> {
  const command = parseCommand(process.argv.slice(2));
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command.kind === 'python-path') {
    process.stdout.write(`${PYTHON_DIR}\n`);
    return 0;
  }
  if (command.kind === 'version') {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`webmon ${manifest.version}\n`);
    return 0;
  }
  return runWebmon(command.options);
}

/**
 * Exits soon after the work is done even if a library left a handle open (e.g. a half-closed socket to
 * a peer that never answers): webmon's promise to napari is to be gone once napari is. The timer is
 * unref'd, so a clean shutdown exits at once without it.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 3_000).unref();
}

main().then(
  (status) => {
    process.exitCode = status;
    exitSoon();
  },
  (error: unknown) => {
    if (error instanceof WebmonError) {
      // Messages may quote a peer (a ring name, Python's error text): one escaped line, like the logger's.
      process.stderr.write(`webmon error [${error.code}]: ${escapeControl(error.message)}\n`);
      // Usage errors (status 2) are the user's to fix: point to the options and examples.
      if (error.exitStatus === USAGE_STATUS) process.stderr.write(USAGE_HINT);
      process.exitCode = error.exitStatus;
    } else {
      process.stderr.write(`webmon: unexpected error: ${describeUnexpected(error)}\n`);
      process.exitCode = 1;
    }
    exitSoon();
  },
);

/** The error's message on one escaped line, then its stack frames (which are ours), each escaped too. */
function describeUnexpected(error: unknown): string {
  if (!(error instanceof Error)) return escapeControl(String(error));
  const header = `${error.name}: ${error.message}`;
  const stack = error.stack ?? header;
  const frames = stack.startsWith(header) ? stack.slice(header.length).split('\n').filter((line) => line !== '') : [];
  return [escapeControl(header), ...frames.map(escapeControl)].join('\n');
}
