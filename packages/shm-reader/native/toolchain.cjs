// What building the addon needs, found by looking, never by running anything: a C compiler, make,
// Python 3 (node-gyp runs gyp with it), node-gyp, and the headers of the very Node that runs us (so
// nothing is ever downloaded). One answer for both users of it: native/build.mjs skips early with the
// precise reason, and the loader (src/shm/native.ts) tells whoever asks nativeAddonStatus() what is
// missing. CommonJS so the loader can require it synchronously from the installed package.
'use strict';
const { accessSync, constants, existsSync, statSync } = require('node:fs');
const { delimiter, dirname, join } = require('node:path');

/** An executable file at `file`. */
function isExecutable(file) {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `command` resolves: itself when it names a path, else the first match on PATH; null if nowhere. */
function which(command, env) {
  if (command.includes('/')) return isExecutable(command) ? command : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, command))) return join(dir, command);
  }
  return null;
}

/** The first word of a command variable (`CC="ccache gcc"` runs ccache). */
function firstWord(value) {
  return value.trim().split(/\s+/)[0] ?? '';
}

/**
 * `{ nodedir, gyp, compiler, make, python, missing }`: each tool's path (null when not found) and, for
 * every one missing, a line that names it and where it was looked for.
 */
function probeToolchain(env = process.env, execPath = process.execPath) {
  const missing = [];

  // Headers: npm_config_nodedir if given, else the prefix of this node binary (Debian: /usr, nvm: ~/.nvm/…).
  const prefix = dirname(dirname(execPath));
  const headerDirs = [env.npm_config_nodedir, prefix].filter(Boolean);
  const nodedir = headerDirs.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'))) ?? null;
  if (nodedir === null) {
    missing.push(`Node's headers (no include/node/node_api.h under ${headerDirs.join(' or ')}; Debian/Ubuntu: apt-get install libnode-dev, or use a Node from nodejs.org/nvm, which ships them)`);
  }

  // gyp's Makefile compiles with $CC_target, else $CC, else make's default `cc`.
  const ccVariable = env.CC_target ? 'CC_target' : env.CC ? 'CC' : null;
  const cc = firstWord(ccVariable === null ? 'cc' : env[ccVariable]);
  const compiler = cc === '' ? null : which(cc, env);
  if (compiler === null) {
    missing.push(ccVariable === null ? 'a C compiler (no cc on PATH; Debian/Ubuntu: apt-get install build-essential)' : `a C compiler (${ccVariable}=${env[ccVariable]} not found)`);
  }

  const makeName = firstWord(env.MAKE || 'make');
  const make = which(makeName, env);
  if (make === null) missing.push(`make (${makeName} not found on PATH)`);

  // node-gyp's own search order: npm_config_python, PYTHON, then python3 and python on PATH.
  const pythonNames = [env.npm_config_python, env.PYTHON, 'python3', 'python'].filter(Boolean).map(firstWord);
  const python = pythonNames.map((name) => which(name, env)).find((found) => found !== null) ?? null;
  if (python === null) missing.push('Python 3 (node-gyp runs gyp with it; none of python3, python on PATH)');

  // node-gyp: the one npm/pnpm point us at, else the copy bundled with npm or pnpm beside this node.
  const gypCandidates = [
    env.npm_config_node_gyp,
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(prefix, 'lib', 'node_modules', 'pnpm', 'dist', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    gypCandidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: the bundled copies are enough
  }
  const gyp = gypCandidates.find((file) => file && file.endsWith('.js') && existsSync(file)) ?? null;
  if (gyp === null) missing.push('node-gyp (npm bundles it; or npm install -g node-gyp)');

  return { nodedir, gyp, compiler, make, python, missing };
}

module.exports = { probeToolchain };
