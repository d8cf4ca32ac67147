import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
  CLUSTER_OPTIONS,
  formatHelp,
  parseCommandLine,
  runCommand,
  type CommandContext,
  type CommandSpec,
} from '../../lib/cli.ts';
import { InterruptedError, NotReadyError, OperationError, UsageError } from '../../lib/errors.ts';
import { registerSecrets } from '../../lib/redact.ts';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'A demo command.',
  usage: '<thing> [options]',
  options: { ...CLUSTER_OPTIONS, fast: { type: 'boolean', description: 'go fast' } },
  examples: ['npm run demo -- thing --fast'],
  maxPositionals: 1,
};

function world(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  let exitCode: number | undefined;
  return {
    w: {
      argv,
      env: { CI: 'true' } as NodeJS.ProcessEnv,
      stdout,
      stderr,
      stdin: new PassThrough(),
      exit: (c: number) => (exitCode = c),
    },
    out: () => out,
    err: () => err,
    exitCode: () => exitCode,
  };
}

describe('parseCommandLine', () => {
  it('parses shared options, repeatable values and positionals', () => {
    const p = parseCommandLine(spec, [
      'sso',
      '-n',
      'dev',
      '-f',
      'a.yaml',
      '--values',
      'b.yaml',
      '--json',
      '-y',
    ]);
    expect(p.positionals).toEqual(['sso']);
    expect(p.values).toMatchObject({ namespace: 'dev', values: ['a.yaml', 'b.yaml'], json: true, yes: true });
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['--namespace'], /argument missing|requires a value|Option '-n, --namespace <value>' argument missing/],
    [['a', 'b'], /unexpected argument: b/],
  ])('rejects %j with a UsageError', (argv, msg) => {
    let err: unknown;
    try {
      parseCommandLine(spec, argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(msg);
    expect((err as UsageError).hint).toMatch(/^see: npm run demo -- --help/);
  });
});

describe('formatHelp', () => {
  it('shows usage, every option and the examples', () => {
    const h = formatHelp(spec);
    expect(h).toContain('Usage: npm run demo -- <thing> [options]');
    expect(h).toMatch(/-n, --namespace NAME\s+target namespace/);
    expect(h).toMatch(/-f, --values PATH\s+extra Helm values file, applied in order \(repeatable\)/);
    expect(h).toContain('  npm run demo -- thing --fast');
    expect(h).toContain('-h, --help');
  });
});

describe('runCommand', () => {
  it('prints help and exits 0 without running the handler', async () => {
    const t = world(['--help']);
    let ran = false;
    const code = await runCommand(spec, async () => void (ran = true), t.w);
    expect(code).toBe(0);
    expect(ran).toBe(false);
    expect(t.out()).toContain('Usage: npm run demo');
  });

  it.each([
    [new UsageError('bad setting', { hint: 'fix it' }), 2],
    [new OperationError('it failed'), 1],
    [new NotReadyError('no cluster', { hint: 'minikube start' }), 3],
    [new Error('unexpected'), 1],
  ])('maps %s to exit code %i with message and hint', async (error, code) => {
    const t = world([]);
    const got = await runCommand(spec, async () => Promise.reject(error), t.w);
    expect(got).toBe(code);
    expect(t.out()).toContain(`✗ ${error.message}`);
    if (error instanceof UsageError) expect(t.out()).toContain('hint: fix it');
  });

  it('an unknown option exits 2 before the handler runs', async () => {
    const t = world(['--bogus']);
    expect(await runCommand(spec, async () => 0, t.w)).toBe(2);
    expect(t.out()).toMatch(/Unknown option '--bogus'/);
  });

  it("after Ctrl+C the interrupted tool's error is not shown; the command's own account of the state is", async () => {
    for (const [thrown, shown, hidden] of [
      [
        new OperationError('helm failed: level=WARN context canceled'),
        '✗ interrupted (SIGINT)',
        'context canceled',
      ],
      [
        new InterruptedError('interrupted during the rollout: revision 2 (deployed)'),
        'revision 2 (deployed)',
        'helm',
      ],
    ] as const) {
      const t = world([]);
      const code = runCommand(
        spec,
        async (ctx) => {
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          throw thrown;
        },
        t.w,
      );
      await new Promise((r) => setImmediate(r));
      process.emit('SIGINT', 'SIGINT');
      expect(await code).toBe(130);
      expect(t.out()).toContain(shown);
      expect(t.out()).not.toContain(hidden);
      await vi.waitFor(() => expect(t.exitCode()).toBe(130));
    }
  });

  /**
   * Runs a --json command that waits for the abort a crash causes, then does `after` (throw, or print
   * and return), with an uncaught exception injected; resolves to its world once it has exited.
   */
  async function crashing(
    after: (ctx: CommandContext) => Promise<number>,
  ): Promise<ReturnType<typeof world>> {
    // Vitest's own handler would count the injected exception as an error of this test run.
    const others = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    try {
      const t = world(['--json']);
      let aborted!: () => void;
      const abortSeen = new Promise<void>((r) => (aborted = r));
      const code = runCommand(
        spec,
        async (ctx) => {
          await new Promise((r) => ctx.signal.addEventListener('abort', r));
          aborted();
          return after(ctx);
        },
        t.w,
      );
      await new Promise((r) => setImmediate(r));
      process.emit('uncaughtException', new Error('boom in a callback'));
      await abortSeen;
      expect(await code).toBe(1);
      await vi.waitFor(() => expect(t.exitCode()).toBe(1));
      return t;
    } finally {
      for (const l of others) process.on('uncaughtException', l);
    }
  }
  const CRASH_DOC = { ok: false, error: { message: 'boom in a callback', exitCode: 1 } };

  it('a crash is reported once and exits 1, though the command then throws the abort it caused', async () => {
    const t = await crashing(() => Promise.reject(new InterruptedError('interrupted')));
    // One document: a second one (the abort, exit 130) would make stdout unparsable.
    expect(JSON.parse(t.out())).toEqual(CRASH_DOC);
    expect(t.err()).not.toContain('✗ interrupted');
    expect(t.err()).toContain('this is a bug in the suite');
  });

  it('after a crash, what the command still prints on stdout is dropped: one --json document', async () => {
    // As migrate does when its stopped children let it finish: its own report, then a normal end.
    const t = await crashing(async (ctx) => {
      ctx.stdout.write(`${JSON.stringify({ ok: false, targets: [] })}\n`);
      return 1;
    });
    expect(JSON.parse(t.out())).toEqual(CRASH_DOC);
  });

  it('an unknown option close to a known one gets a did-you-mean', async () => {
    for (const [typed, meant] of [
      ['--fsat', '--fast'],
      ['--namespce', '--namespace'],
      ['--verb', '--verbose'],
      ['--context=x', undefined],
    ] as const) {
      const t = world([typed.replace('--context=x', '--contxt=x')]);
      expect(await runCommand(spec, async () => 0, t.w)).toBe(2);
      if (meant) expect(t.out()).toContain(`hint: did you mean ${meant}?`);
      else expect(t.out()).toContain('hint: did you mean --context?');
    }
    const far = world(['--zzzzzz']);
    await runCommand(spec, async () => 0, far.w);
    expect(far.out()).not.toContain('did you mean');
  });

  it('options npm kept for itself (no "--") stop the command before it runs, with the line to paste', async () => {
    // `npm run demo thing --fast --context prod`: npm exports the flags, passes the bare values on
    const t = world(['thing', 'prod']);
    t.w.env = {
      CI: 'true',
      npm_lifecycle_event: 'demo',
      npm_config_fast: 'true',
      npm_config_context: 'true',
    };
    let ran = false;
    expect(await runCommand(spec, async () => void (ran = true), t.w)).toBe(2);
    expect(ran).toBe(false);
    expect(t.out()).toContain('npm kept --context, --fast for itself');
    expect(t.out()).toContain('hint: run: npm run demo -- thing --context prod --fast');
    // given after "--" they reach the command: no refusal, even with npm's variables set
    const ok = world(['thing', '--fast', '--context', 'prod']);
    ok.w.env = t.w.env;
    expect(await runCommand(spec, async () => 0, ok.w)).toBe(0);
    // an option's value the user did give after a flag npm kept stays with its option
    const mixed = world(['thing', '-n', 'ns1', 'prod']);
    mixed.w.env = t.w.env;
    expect(await runCommand(spec, async () => 0, mixed.w)).toBe(2);
    expect(mixed.out()).toContain('hint: run: npm run demo -- thing -n ns1 --context prod --fast');
    // another script's variables (an outer npm run) do not count
    const outer = world(['thing']);
    outer.w.env = { ...t.w.env, npm_lifecycle_event: 'test' };
    expect(await runCommand(spec, async () => 0, outer.w)).toBe(0);
    // npm's own defaults (npm_config_yes is exported empty) are not flags the user gave
    const defaults = world(['thing']);
    defaults.w.env = { CI: 'true', npm_lifecycle_event: 'demo', npm_config_yes: '' };
    expect(await runCommand(spec, async () => 0, defaults.w)).toBe(0);
  });

  it('with --json, stdout holds only one JSON document, even for an error, and never a secret', async () => {
    const t = world(['--json']);
    const code = await runCommand(
      spec,
      async (ctx) => {
        ctx.redactor.add('json-secret-value-1234');
        return Promise.reject(
          new NotReadyError('cannot use json-secret-value-1234', { hint: 'minikube start' }),
        );
      },
      t.w,
    );
    expect(code).toBe(3);
    const doc = JSON.parse(t.out());
    expect(doc).toEqual({
      ok: false,
      error: { message: 'cannot use ••••••', hint: 'minikube start', exitCode: 3 },
    });
    expect(t.err()).toContain('✗ cannot use ••••••');
    expect(t.out() + t.err()).not.toContain('json-secret-value-1234');
  });

  it('each run masks the secrets it met, wherever in the run they were registered, and no other run sees them', async () => {
    const a = world([]);
    const b = world([]);
    let release: () => void = () => undefined;
    const bStarted = new Promise<void>((r) => (release = r));
    const [codeA, codeB] = await Promise.all([
      runCommand(
        spec,
        async () => {
          await new Promise<void>((r) => setTimeout(r, 0)); // a timer hop: still this run
          registerSecrets('run-a-secret-5678');
          await bStarted;
          throw new NotReadyError('run a: run-a-secret-5678');
        },
        a.w,
      ),
      runCommand(
        spec,
        async () => {
          release();
          await new Promise<void>((r) => setTimeout(r, 0));
          throw new NotReadyError('run b: run-a-secret-5678');
        },
        b.w,
      ),
    ]);
    expect([codeA, codeB]).toEqual([3, 3]);
    expect(a.out()).toContain('✗ run a: ••••••');
    expect(b.out()).toContain('✗ run b: run-a-secret-5678');
  });
});
