/**
 * `@webmon/relay/client` is loaded by browsers: nothing it reaches through relative imports may import
 * `ws` or a Node built-in. (The build enforces the same with an esbuild plugin; this walks the sources.)
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);
}

/** Every bare specifier reachable from `entry` through relative imports. */
function externalImports(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else found.set(specifier, file);
    }
  }
  return found;
}

describe('client entry', () => {
  it('imports only @webmon/protocol', () => {
    const external = externalImports(resolve(srcDir, 'client.ts'));
    expect([...external.keys()]).toEqual(['@webmon/protocol']);
    const builtins = new Set(builtinModules);
    for (const specifier of external.keys()) {
      expect(specifier.startsWith('node:') || builtins.has(specifier) || specifier === 'ws').toBe(false);
    }
  });

  it('the walker does see Node imports (it would catch them in the client)', () => {
    const external = externalImports(resolve(srcDir, 'server.ts'));
    expect(external.has('ws')).toBe(true);
    expect(external.has('node:crypto')).toBe(true);
  });
});
