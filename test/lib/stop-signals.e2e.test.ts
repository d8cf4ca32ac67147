import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { freePort } from '../support/embedded-pg.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import {
  type NpmRun,
  type SeenProcess,
  listProcesses as listed,
  startNpm,
  stillRunning,
} from '../support/npm-run.ts';
import { httpStatus, installRelease, kubectl } from '../port-forward/e2e-helpers.ts';

/**
 * A stop that does not come from a terminal: a signal to npm alone (what `timeout`, a CI job's
 * cancellation, a process manager or `kill <pid>` sends), to the command's own process, or npm gone
 * without a word (SIGKILL). Each long-running command, started through npm as a user starts it, must
 * end as on Ctrl+C: its clean-up, every process it started stopped (checked by pid and start time),
 * npm's documented exit status where npm lives to give one.
 */

type Sim = Awaited<ReturnType<typeof startKubeSim>>;
const NS = 'tf-stop';
const NEVER = 'fail/never';

interface Stop {
  name: string;
  signal: NodeJS.Signals;
  /** Whom the signal is sent to. */
  to: 'npm' | 'command';
  /** npm's exit: a code, or the signal that ended it. */
  npm: { code: number } | { signal: NodeJS.Signals };
}

const STOPS: Stop[] = [
  { name: 'SIGTERM to npm', signal: 'SIGTERM', to: 'npm', npm: { code: 130 } },
  { name: 'SIGINT to npm', signal: 'SIGINT', to: 'npm', npm: { code: 130 } },
  // npm does not pass SIGHUP on and dies of it; the command notices its parent is gone.
  { name: 'SIGHUP to npm', signal: 'SIGHUP', to: 'npm', npm: { signal: 'SIGHUP' } },
  { name: 'SIGKILL to npm (its parent gone)', signal: 'SIGKILL', to: 'npm', npm: { signal: 'SIGKILL' } },
  { name: 'SIGTERM to the command', signal: 'SIGTERM', to: 'command', npm: { code: 130 } },
  { name: 'SIGHUP to the command', signal: 'SIGHUP', to: 'command', npm: { code: 130 } },
];

interface Command {
  script: string;
  args(n: number): Promise<string[]>;
  /** When the command is in its long wait: forwarding, following, watching the rollout. */
  ready(r: NpmRun): boolean;
  /** A local port it serves, freed once it stopped. */
  port?: (args: string[]) => number;
}

describe('stopped from outside, through npm: nothing left running', () => {
  let sim: Sim;
  let se: ScriptEnv;
  const runs: NpmRun[] = [];
  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        images: { [NEVER]: { state: 'never-ready' } },
        readyAfterMs: 100,
        progressDeadlineScale: 1,
      },
    });
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
    writeFileSync(path.join(se.cwd, 'never.yaml'), `mcp:\n  image:\n    repository: ${NEVER}\n`);
    await installRelease(se, NS);
  });
  afterAll(async () => {
    for (const r of runs) {
      for (const p of stillRunning(r.processes())) process.kill(p.pid, 'SIGKILL');
    }
    se?.cleanup();
    await sim?.stop();
  });

  const portOf = (args: string[]): number => Number(/(\d+)$/.exec(args.join(' '))?.[1]);
  const kubectlChildren = (r: NpmRun): SeenProcess[] =>
    r.processes().filter((p) => p.argv[0] === se.env.KUBECTL);
  const COMMANDS: Record<string, Command> = {
    'port-forward': {
      script: 'port-forward',
      args: async () => ['--only', 'web', '--ports', `web=${await freePort()}`],
      ready: (r) => r.output().includes('Forwarding;'),
      port: portOf,
    },
    'pgadmin in the foreground': {
      script: 'pgadmin',
      args: async () => ['--yes', '--port', String(await freePort())],
      ready: (r) => r.output().includes('  login:    admin@example.com / '),
      port: portOf,
    },
    'logs following': {
      script: 'logs',
      args: async () => ['mcp', '--follow'],
      // one kubectl for the container's log, one watching the pods
      ready: (r) => kubectlChildren(r).length === 2,
    },
    'deploy during its rollout wait': {
      script: 'deploy',
      // a namespace of its own each time: a fresh install whose mcp never gets ready
      args: async (n) => ['-n', `${NS}-deploy-${n}`, '--timeout', '120s', '-f', 'never.yaml'],
      ready: (r) => r.output().includes('watching the rollout'),
    },
  };

  let n = 0;
  const cases = Object.keys(COMMANDS).flatMap((c) => STOPS.map((s) => [c, s.name, s] as const));
  it.each(cases)('%s, %s', async (name, _stopName, stop) => {
    const cmd = COMMANDS[name];
    if (!cmd) throw new Error(name);
    const args = await cmd.args(++n);
    const r = startNpm(cmd.script, args, se);
    runs.push(r);
    let exited = false;
    void r.exited.then(() => (exited = true));
    await expect.poll(() => exited || cmd.ready(r), { timeout: 90_000, interval: 100 }).toBe(true);
    expect(exited, r.output()).toBe(false);
    const port = cmd.port?.(args);
    if (port !== undefined) expect(await httpStatus(port)).toBe(200);
    const seen = r.processes();
    const commandPid = r.commandPid();
    expect(commandPid, listed(seen)).toBeDefined();
    // npm, the command and at least one tool it started
    expect(seen.length, listed(seen)).toBeGreaterThanOrEqual(name.startsWith('deploy') ? 2 : 3);

    process.kill(stop.to === 'npm' ? r.npmPid : (commandPid ?? 0), stop.signal);
    await expect.poll(() => listed(stillRunning(seen)), { timeout: 30_000, interval: 100 }).toBe('');
    const end = await r.exited;
    expect(end, r.output()).toEqual(
      'code' in stop.npm ? { code: stop.npm.code, signal: null } : { code: null, ...stop.npm },
    );
    // stopped the Ctrl+C way (its children stopped by the command), not killed
    expect(r.output()).toMatch(/! interrupted: stopping \d+ child process\(es\)/);
    expect(r.output()).not.toMatch(/\n\s+at |this is a bug in the suite/);
    if (port !== undefined) expect(await httpStatus(port, 300)).toBeUndefined();
    if (cmd.script === 'deploy') {
      expect(r.output()).toContain(
        '✗ interrupted during the rollout watch: release taskflow is at revision 1',
      );
      // the release lock was given back on the way out: the lease names no holder
      const lease = await kubectl(se, [
        'get',
        'lease',
        'taskflow-lock-taskflow',
        '-n',
        args[1] ?? '',
        '-o',
        'jsonpath={.metadata.name}:{.spec.holderIdentity}',
      ]);
      expect(lease.stdout).toBe('taskflow-lock-taskflow:');
    }
  });
});
