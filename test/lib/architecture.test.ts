// The floors of ARCHITECTURE.md, measured on the source: commands (lib/<command>/) stand on shared
// modules (lib/*.ts); no command folder imports another, no shared module imports a command folder,
// nothing in lib/ or scripts/ imports test/, and no import cycle (type-only imports included).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/tools.ts';

function files(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every relative import of a file (static, re-export, dynamic), resolved to a repo path. */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(
    file,
    readFileSync(path.join(repoRoot, file), 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier)
      spec = n.moduleSpecifier;
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) spec = n.arguments[0];
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.'))
      out.push(path.normalize(path.join(path.dirname(file), spec.text)));
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const SOURCES = [...files('lib'), ...files('scripts')];
const GRAPH = new Map(SOURCES.map((f) => [f, importsOf(f)]));
/** `deploy` for lib/deploy/x.ts; undefined for a shared module or a script. */
const commandOf = (f: string) => /^lib\/([^/]+)\//.exec(f)?.[1];

describe('architecture', () => {
  it('no command folder imports another; no shared module imports a command folder', () => {
    const bad: string[] = [];
    for (const [f, deps] of GRAPH) {
      if (!f.startsWith('lib/')) continue;
      for (const d of deps) {
        const to = commandOf(d);
        if (to !== undefined && to !== commandOf(f)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
    expect(GRAPH.size).toBeGreaterThan(80);
  });

  it('lib/ and scripts/ never import test/', () => {
    const bad = [...GRAPH].flatMap(([f, deps]) =>
      deps.filter((d) => d.startsWith('test/')).map((d) => `${f} -> ${d}`),
    );
    expect(bad).toEqual([]);
  });

  it('no import cycle, type-only imports included', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of GRAPH.get(f) ?? []) if (GRAPH.has(d)) visit(d, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of GRAPH.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('the lint rule that keeps it so fails a sideways import and an import from test/', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const lint = async (file: string, text: string) =>
      (await eslint.lintText(text, { filePath: path.join(repoRoot, file) }))[0]?.messages.map(
        (m) => m.ruleId,
      ) ?? [];
    expect(await lint('lib/migrate/new.ts', "export { deployValues } from '../deploy/plan.ts';\n")).toContain(
      'no-restricted-imports',
    );
    expect(await lint('lib/new.ts', "export { runDeploy } from './deploy/deploy.ts';\n")).toContain(
      'no-restricted-imports',
    );
    expect(
      await lint('scripts/new.ts', "export { startKubeSim } from '../test/kube-sim/index.ts';\n"),
    ).toContain('no-restricted-imports');
    expect(await lint('lib/migrate/new.ts', "export { APPS } from '../components.ts';\n")).toEqual([]);
  });
});
