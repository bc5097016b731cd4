// Reading a README the way its tests hold it to its word: the first example names a file of the package
// and shows it verbatim; the install line names every package the example imports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** The fence's language (`js`, `ts`, `sh`, …), '' when none. */
  lang: string;
  /** The block's text, without the fences. */
  text: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1] ?? '', text: m[2] ?? '' }));
}

/** A marker line that names the file a code block shows: `// examples/basic.mjs` (or `# …` / `<!-- … -->`). */
const FILE_MARKER = /^(?:\/\/|#|<!--)\s*((?:examples|src|bin)\/[\w./-]+)\s*(?:-->)?\s*$/;

export interface ReadmeExample {
  /** The file the README's first example names, relative to the package folder. */
  file: string;
  /** The example's text as the README shows it (the marker line removed). */
  text: string;
}

/**
 * The README's first example: the first code block that is not a shell block must start with a marker line
 * naming a file of the package. Throws when it does not, so a README cannot drift into untested prose.
 */
export function firstExample(markdown: string): ReadmeExample {
  const block = codeBlocks(markdown).find((b) => !['sh', 'bash', 'shell', 'console', 'text', ''].includes(b.lang));
  if (block === undefined) throw new Error('the README has no example code block');
  const [first = '', ...rest] = block.text.split('\n');
  const marker = FILE_MARKER.exec(first.trim());
  if (marker === null) throw new Error(`the README's first example does not start with a file marker like "// examples/basic.mjs": ${first}`);
  return { file: marker[1]!, text: rest.join('\n') };
}

/** The file a code block shows, when it starts with a marker line: its path and its text (marker removed). */
export function blockFile(block: CodeBlock): ReadmeExample | null {
  const [first = '', ...rest] = block.text.split('\n');
  const marker = FILE_MARKER.exec(first.trim());
  return marker === null ? null : { file: marker[1]!, text: rest.join('\n') };
}

/** Every code block of the README that shows a file (starts with a marker line). */
export function fileBlocks(markdown: string): ReadmeExample[] {
  return codeBlocks(markdown).flatMap((block) => blockFile(block) ?? []);
}

/** Every package an `npm install` / `pnpm add` line of the README's shell blocks names (ranges stripped). */
export function installedPackages(markdown: string): string[] {
  const names = new Set<string>();
  for (const block of codeBlocks(markdown).filter((b) => ['sh', 'bash', 'shell'].includes(b.lang))) {
    for (const line of block.text.split('\n')) {
      const command = /^\s*(?:npm (?:install|i)|pnpm add|yarn add)\s+(.*?)(?:\s+#.*)?$/.exec(line);
      if (command === null) continue;
      for (const word of command[1]!.split(/\s+/)) {
        if (word === '' || word.startsWith('-')) continue;
        names.add(word.replace(/^(@?[^@]+)@.*$/, '$1'));
      }
    }
  }
  return [...names];
}

/** The packages a module imports by bare name (`three`, `@webmon/relay` from `@webmon/relay/client`), not `node:` ones. */
export function bareImports(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    const specifier = (m[1] ?? m[2] ?? m[3])!;
    if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...names];
}

/** The README's first example, checked to be the named file verbatim; returns the file's path in `packageDir`. */
export function readmeExampleFile(packageDir: string): { path: string; example: ReadmeExample; readme: string } {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const example = firstExample(readme);
  const path = join(packageDir, example.file);
  const onDisk = readFileSync(path, 'utf8');
  // The file may carry the marker line itself or not; the rest must be the same text.
  const withoutMarker = onDisk.replace(/^[^\n]*\n/, (line) => (FILE_MARKER.test(line.trim()) ? '' : line));
  if (withoutMarker.trim() !== example.text.trim()) {
    throw new Error(`${example.file} differs from the README's first example: keep them the same text`);
  }
  return { path, example, readme };
}
