// Every command the suite tells a user to run must work when pasted: `npm run <script> -- <args>`, with
// arguments the command's own parser accepts. Collected from the source (every literal that names a
// command, every npmRun call, every help example) and from the printers that build them at run time.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ALL_SPECS } from '../support/specs.ts';
import { describe, expect, it } from 'vitest';
import { type CommandSpec, parseCommandLine } from '../../lib/cli.ts';
import { printSummary } from '../../lib/deploy/summary.ts';
import { commandLine } from '../../lib/kube-context.ts';
import { Logger } from '../../lib/log.ts';
import { npmRun } from '../../lib/suggest.ts';
import { repoRoot } from '../support/tools.ts';

const SPECS: Record<string, CommandSpec> = Object.fromEntries(ALL_SPECS.map((s) => [s.name, s]));
const SCRIPTS = Object.keys(
  (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: object }).scripts,
);

/** Splits a suggestion like a POSIX shell would (single and double quotes; no expansions). */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      cur = (cur ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      cur = (cur ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === ' ') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** Parses `npm run <script> [-- args]` with the script's own parser; returns the problem, if any. */
function problemOf(command: string): string | undefined {
  const all = shellWords(command.replace(/\s+#.*$/, '').trim());
  // one command: up to a redirection or the next command of a list
  const end = all.findIndex((w) => ['>', '>>', '&&', '||', '|', ';', '&', '2>&1'].includes(w));
  const words = end === -1 ? all : all.slice(0, end);
  const at = words.indexOf('npm');
  if (words[at + 1] !== 'run') return `not an npm run command: ${command}`;
  // npm's own -s (silent) before the script name keeps its banner off stdout.
  const silent = ['-s', '--silent'].includes(words[at + 2] ?? '') ? 1 : 0;
  const script = words[at + 2 + silent] ?? '';
  if (!SCRIPTS.includes(script)) return `no npm script "${script}": ${command}`;
  const rest = words.slice(at + 3 + silent);
  if (rest.length > 0 && rest[0] !== '--') return `arguments without "--" (npm keeps them): ${command}`;
  const spec = SPECS[script];
  if (!spec) return undefined; // not a user command (the simulated cluster)
  try {
    parseCommandLine(spec, rest.slice(1));
    return undefined;
  } catch (err) {
    return `${command}: ${(err as Error).message}`;
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|mjs)$/.test(n) ? [p] : [];
  });
}
const FILES = [...sourceFiles(path.join(repoRoot, 'lib')), ...sourceFiles(path.join(repoRoot, 'scripts'))];
const EXAMPLES = new Set(Object.values(SPECS).flatMap((s) => s.examples));

interface Found {
  where: string;
  text: string;
}

/** Every literal text piece and every npmRun call of the source, with its place. */
function scan(): { literals: Found[]; calls: { where: string; argvs: string[][] | undefined }[] } {
  const literals: Found[] = [];
  const calls: { where: string; argvs: string[][] | undefined }[] = [];
  for (const file of FILES) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const where = (n: ts.Node) =>
      `${path.relative(repoRoot, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (n: ts.Node): void => {
      if (
        ts.isStringLiteral(n) ||
        ts.isNoSubstitutionTemplateLiteral(n) ||
        ts.isTemplateHead(n) ||
        ts.isTemplateMiddle(n) ||
        ts.isTemplateTail(n)
      ) {
        const follows = ts.isTemplateHead(n) || ts.isTemplateMiddle(n) ? '${…}' : '';
        literals.push({ where: where(n), text: n.text + follows });
      }
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'npmRun') {
        calls.push({ where: where(n), argvs: evaluate(n.arguments) });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { literals, calls };
}

/** The argument lists an npmRun call can produce (each branch of a ?:, ?? or &&); undefined when not literal. */
function evaluate(args: readonly ts.Expression[]): string[][] | undefined {
  const [script, ...rest] = args;
  if (!script || !ts.isStringLiteral(script)) return undefined;
  const alternatives = (e: ts.Expression | ts.SpreadElement): string[][] => {
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isNumericLiteral(e))
      return [[e.text]];
    if (ts.isParenthesizedExpression(e)) return alternatives(e.expression);
    if (ts.isConditionalExpression(e)) return [...alternatives(e.whenTrue), ...alternatives(e.whenFalse)];
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken)
        return [...alternatives(e.left), ...alternatives(e.right)];
      if (op === ts.SyntaxKind.AmpersandAmpersandToken) return [[], ...alternatives(e.right)];
    }
    if (ts.isSpreadElement(e)) return [[]]; // repeated target options, checked at run time below
    return [['VALUE']]; // a variable: one value (a name, a namespace)
  };
  let out: string[][] = [[script.text]];
  for (const a of rest) out = out.flatMap((prefix) => alternatives(a).map((alt) => [...prefix, ...alt]));
  return out;
}

const { literals, calls } = scan();

describe('command suggestions', () => {
  it('every script a suggestion may name is a package.json script, and every command spec is one', () => {
    for (const name of Object.keys(SPECS)) expect(SCRIPTS).toContain(name);
    expect(calls.length).toBeGreaterThan(40);
  });

  it('no literal names a command with arguments: those go through npmRun, which writes the "--"', () => {
    const bad = literals.filter(
      (l) =>
        !EXAMPLES.has(l.text) &&
        !l.where.startsWith('lib/suggest.ts') &&
        /npm run [a-z-]+( +(-|<|\[)| *\$\{…\})/.test(l.text),
    );
    expect(bad.map((l) => `${l.where}: ${l.text}`)).toEqual([]);
  });

  it('every command a literal names exists', () => {
    const names = literals.flatMap((l) =>
      [...l.text.matchAll(/npm run (?:-s )?([a-z][a-z-]*)/g)].map((m) => m[1]),
    );
    expect(names.length).toBeGreaterThan(20);
    expect([...new Set(names)].filter((n) => !SCRIPTS.includes(n ?? ''))).toEqual([]);
  });

  it('every npmRun call, in each of its branches, parses with its command’s own options', () => {
    const problems = calls.flatMap((c) =>
      (c.argvs ?? [])
        .map((argv) => problemOf(npmRun(argv[0] as never, ...argv.slice(1))))
        .filter(Boolean)
        .map((p) => `${c.where}: ${p}`),
    );
    expect(problems).toEqual([]);
    // Calls with a computed script name are checked at run time below.
    // lib/context.ts repeats the user's own command line (minus --no-wait) in the release lock's hint.
    expect(calls.filter((c) => !c.argvs).map((c) => c.where)).toEqual([
      expect.stringMatching(/^lib\/context\.ts:/),
      expect.stringMatching(/^lib\/deploy\/summary\.ts:/),
      expect.stringMatching(/^lib\/kube-context\.ts:/),
    ]);
  });

  it('every help example parses', () => {
    const problems = Object.values(SPECS)
      .flatMap((s) => s.examples)
      .map((e) => problemOf(e))
      .filter(Boolean);
    expect(problems).toEqual([]);
  });

  it('the deploy summary’s Next: lines and the URL line, with the target options repeated', () => {
    let out = '';
    const log = new Logger({
      out: { write: (s: string) => ((out += s), true) } as never,
      interactive: false,
    });
    printSummary(
      log,
      {
        ok: true,
        release: 'tf',
        namespace: 'dev',
        context: 'kind-dev',
        revision: 1,
        durationMs: 1000,
        services: [{ name: 'web-dashboard', ready: true, url: 'http://localhost:3000' }],
        failures: [],
      },
      {
        envFile: '.env',
        access: 'port-forward',
        sources: {} as never,
        pgadmin: false,
        cli: ['-n', 'dev', '--context', 'kind dev', '--env-file', 'my.env'],
      },
    );
    const commands = [...out.matchAll(/npm run [^#\n)]*/g)].map((m) => m[0].trim());
    expect(commands.length).toBe(6);
    for (const c of commands) {
      expect(problemOf(c)).toBeUndefined();
      expect(c).toContain("--context 'kind dev'");
    }
  });

  it('the remote-context guard repeats the command as typed, with --context', () => {
    for (const [name, argv] of [
      ['deploy', ['--fresh', '--yes', '--context', 'other']],
      ['migrate', ['sso', '--env-file', 'a b.env']],
      ['reset-db-password', ['api', '--rotate', '--context=x']],
    ] as const) {
      const line = commandLine(name, argv, ['--context', 'prod-aks']);
      expect(problemOf(line)).toBeUndefined();
      expect(line.match(/--context/g)).toHaveLength(1 + Number(argv.some((a) => a.startsWith('--context'))));
    }
  });
});

describe('the literal check fails on what it is for', () => {
  it('flags the bare form a user cannot paste, and passes the builder’s', () => {
    expect(problemOf('npm run doctor -n taskflow')).toMatch(/without "--"/);
    expect(problemOf('npm run doctor -- -n taskflow')).toBeUndefined();
    expect(problemOf('npm run doctor -- --nope')).toMatch(/Unknown option '--nope'/);
    expect(problemOf('npm run migrate -- sso api')).toMatch(/unexpected argument: api/);
    expect(problemOf('npm run nonesuch')).toMatch(/no npm script/);
    expect(npmRun('doctor', '-n', 'a b', false, undefined, ...['--context', 'c'])).toBe(
      "npm run doctor -- -n 'a b' --context c",
    );
  });
});
