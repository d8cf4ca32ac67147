import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/tools.ts';

/** Every file the commands run: lib/ and the script entries. */
function commandFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(e.name)) out.push(p);
    }
  };
  walk(path.join(repoRoot, 'lib'));
  walk(path.join(repoRoot, 'scripts'));
  return out;
}

/** The package a bare specifier names (`kubernetes-models/v1/Pod` → kubernetes-models, `@a/b/c` → @a/b). */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

describe('runtime dependencies', () => {
  it('every package the commands import is a dependency, so npm ci --omit=dev keeps it', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules);
    const imported = new Map<string, string>();
    for (const f of commandFiles()) {
      // TypeScript's own scanner: static imports, re-exports and import('literal') calls.
      for (const { fileName: spec } of ts.preProcessFile(readFileSync(f, 'utf8'), true, true).importedFiles) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        imported.set(packageOf(spec), path.relative(repoRoot, f));
      }
    }
    expect([...imported.keys()]).toContain('kubernetes-models');
    const missing = [...imported].filter(([p]) => !(p in pkg.dependencies)).map(([p, f]) => `${p} (${f})`);
    expect(missing).toEqual([]);
  });
});
