import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { CommandContext, ParsedValues } from '../../lib/cli.ts';
import type { ClusterSession } from '../../lib/context.ts';
import { loadSettings } from '../../lib/env.ts';
import { Runner, type RunOptions, type RunResult, type Started } from '../../lib/exec.ts';
import { Helm } from '../../lib/helm.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { Logger } from '../../lib/log.ts';
import { Secret } from '../../lib/secrets.ts';

/** A long-running child that the test drives: write its output, make it exit. */
export class FakeChild implements Started {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<number | null>;
  stopped = false;
  #exit: (code: number | null) => void = () => undefined;
  #done = false;
  constructor(
    readonly argv: string[],
    readonly pid: number,
  ) {
    this.exited = new Promise((r) => (this.#exit = r));
  }
  out(line: string): void {
    this.stdout.write(`${line}\n`);
  }
  err(line: string): void {
    this.stderr.write(`${line}\n`);
  }
  exit(code: number | null): void {
    if (this.#done) return;
    this.#done = true;
    this.stdout.end();
    this.stderr.end();
    this.#exit(code);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.exit(null);
    await this.exited;
  }
}

export type Reply = Partial<Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>>;

/** Drops the --context/--namespace pair kubectl calls start with, so replies match on the verb. */
export function verb(args: string[]): string[] {
  const out = [...args];
  while (out[0] === '--context' || out[0] === '--namespace') out.splice(0, 2);
  return out;
}

/** A runner that starts nothing: `run` is answered by `reply`, `start` hands out FakeChild objects. */
export class ScriptedRunner extends Runner {
  readonly recorded: { argv: string[]; stdin?: string }[] = [];
  readonly children: FakeChild[] = [];
  constructor(
    readonly reply: (args: string[], stdin: string | undefined) => Reply = () => ({}),
    readonly onStart: (child: FakeChild) => void = () => undefined,
  ) {
    super();
  }
  override async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const stdin = opts.stdin instanceof Secret ? opts.stdin.reveal() : opts.stdin?.toString();
    this.recorded.push({ argv, ...(stdin !== undefined && { stdin }) });
    this.calls.push({ argv, startedAt: Date.now() });
    const r = this.reply(verb(argv.slice(1)), stdin);
    return { argv, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', durationMs: 0 };
  }
  override start(argv: string[]): Started {
    this.recorded.push({ argv });
    this.calls.push({ argv, startedAt: Date.now() });
    const child = new FakeChild(argv, 10_000 + this.children.length);
    this.children.push(child);
    queueMicrotask(() => this.onStart(child));
    return child;
  }
  /** argv (binary dropped, target dropped) of every recorded call. */
  get verbs(): string[][] {
    return this.recorded.map((r) => verb(r.argv.slice(1)));
  }
}

/** Collects what is written to a stream. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A command context with captured stdout and log, no TTY, and an abort controller. */
export function testCtx(
  runner: Runner,
  values: ParsedValues = {},
  positionals: string[] = [],
): { ctx: CommandContext; stdout: Capture; logged: Capture; abort: AbortController } {
  const stdout = new Capture();
  const logged = new Capture();
  const abort = new AbortController();
  const stdin = Object.assign(new PassThrough(), { isTTY: false });
  const ctx: CommandContext = {
    args: { values, positionals },
    log: new Logger({ out: logged, interactive: false, color: false, json: values.json === true }),
    runner,
    env: {},
    stdout,
    stdin,
    signal: abort.signal,
  };
  return { ctx, stdout, logged, abort };
}

/** A cluster session over a runner, with settings from an env file's text. */
export function testSession(
  runner: Runner,
  envText = '',
  target = { namespace: 'tf', release: 'taskflow' },
): { session: ClusterSession; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-pf-'));
  const envPath = path.join(dir, '.env');
  writeFileSync(envPath, envText);
  const { settings, envFile } = loadSettings({ envFile: envPath, env: {}, ...target });
  const tool = (name: 'kubectl' | 'helm', major: number) => ({
    name,
    path: name,
    version: `${major}.0.0`,
    major,
    minor: 0,
  });
  const session: ClusterSession = {
    settings,
    envFile,
    warnings: [],
    target,
    valuesFiles: [],
    tools: { kubectl: tool('kubectl', 1), helm: tool('helm', 4) },
    kubectl: new Kubectl(runner, 'kubectl', target),
    helm: new Helm(runner, 'helm', 4, target),
    place: {
      context: 'kube-sim',
      namespace: target.namespace,
      server: 'http://127.0.0.1:6443',
      local: true,
      reason: 'the simulated cluster',
      fromFlag: false,
    },
  };
  return { session, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
