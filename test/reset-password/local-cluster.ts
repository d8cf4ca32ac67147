import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { Runner } from '../../lib/exec.ts';
import { Helm } from '../../lib/helm.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { Logger } from '../../lib/log.ts';
import type { ResetDeps } from '../../lib/reset-password/reset.ts';
import { Secret } from '../../lib/secrets.ts';
import type { EnvFileState } from '../../lib/reset-password/rotate.ts';
import type { PgServer } from '../support/embedded-pg.ts';
import { captureOut } from '../support/command-context.ts';
import { FakeRunner, type Reply, json, notFound } from '../support/fake-runner.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export interface LocalCluster {
  runner: FakeRunner;
  /** Secret name -> key -> value, as the cluster holds them. */
  secrets: Map<string, Record<string, string>>;
  /** The release's values (what `helm get values --all` answers). */
  values: Record<string, unknown>;
  deployed: boolean;
  podRunning: boolean;
  /** Make the next helm upgrade fail. */
  failUpgrade: boolean;
  deps(opts?: { envFile?: EnvFileState; yes?: boolean; tty?: boolean; answer?: string; password?: string }): {
    deps: ResetDeps;
    /** What the user saw. */
    out: () => string;
    /** stdout (the --json document). */
    json: () => string;
  };
}

/**
 * A one-database "cluster" for the reset-db-password logic: `kubectl exec` into the postgres pod runs
 * the very command locally against a real PostgreSQL (its socket trusted, TCP with scram-sha-256),
 * with the pod's POSTGRES_USER/POSTGRES_DB; Secrets, helm and Deployments are answered from memory.
 */
export function localCluster(pg: PgServer, opts: { user: string; db: string }): LocalCluster {
  const real = new Runner();
  const podEnv = {
    PATH: process.env.PATH,
    PGHOST: path.dirname(pg.dataDir),
    PGPORT: String(pg.port),
    POSTGRES_USER: opts.user,
    POSTGRES_DB: opts.db,
  };
  const c: LocalCluster = {
    runner: undefined as unknown as FakeRunner,
    secrets: new Map(),
    values: { sso: { database: { user: opts.user, name: opts.db } } },
    deployed: true,
    podRunning: true,
    failUpgrade: false,
    deps: () => {
      throw new Error('set below');
    },
  };
  const reply = async (args: string[], stdin: string | undefined): Promise<Reply> => {
    const a = args.join(' ');
    if (a.startsWith('get --raw /version')) return { stdout: '{}' };
    if (args[0] === 'exec') {
      const cmd = args.slice(args.indexOf('--') + 1);
      const res = await real.run(cmd, {
        ...(stdin !== undefined && { stdin }),
        env: podEnv,
        timeoutMs: 30_000,
      });
      return res;
    }
    if (args[0] === 'get' && args[1] === 'secret') {
      const s = c.secrets.get(args[2] ?? '');
      if (!s) return { stdout: '' };
      return json({
        kind: 'Secret',
        data: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, b64(v)])),
      });
    }
    if (args[0] === 'get' && args[1] === 'pod') {
      if (!c.podRunning) return { stdout: '' };
      return json({
        kind: 'Pod',
        metadata: { name: args[2] },
        status: { phase: 'Running', containerStatuses: [{ name: 'postgres', state: { running: {} } }] },
      });
    }
    if (args[0] === 'get' && args[1] === 'deployment') {
      return json({
        kind: 'Deployment',
        metadata: { name: args[2] },
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
      });
    }
    if (a.startsWith('rollout restart')) return { stdout: `${args[2]} restarted` };
    if (a === 'get pods -o json') return json({ items: [] });
    // helm
    if (args[0] === 'status') {
      return c.deployed
        ? json({ name: 'rel', namespace: 'tf', version: 1, info: { status: 'deployed' } })
        : { exitCode: 1, stderr: 'Error: release: not found' };
    }
    if (args[0] === 'get' && args[1] === 'values') return json(c.values);
    if (args[0] === 'upgrade') {
      if (c.failUpgrade)
        return { exitCode: 1, stderr: 'Error: UPGRADE FAILED: timed out waiting for the condition' };
      const doc = parse(stdin ?? '') as { sso?: { database?: { password?: string } } };
      const pw = doc.sso?.database?.password;
      // What the chart does on render: the password Secret and the URL built from it.
      if (pw) {
        c.secrets.set('sso-postgres', { password: pw });
        c.secrets.set('sso-platform', {
          DATABASE_URL: `postgresql://${opts.user}:${encodeURIComponent(pw)}@sso-postgres:5432/${opts.db}?sslmode=disable`,
        });
      }
      return { stdout: 'Release "rel" has been upgraded.' };
    }
    return notFound(a);
  };
  const runner = new FakeRunner(reply, ({ args }) =>
    args[0] === 'rollout'
      ? {
          stdout: `deployment "${(args[2] ?? '').replace('deployment/', '')}" successfully rolled out\n`,
          afterMs: 5,
        }
      : {},
  );
  c.runner = runner;
  c.deps = (o = {}) => {
    const out = captureOut();
    const stdout = captureOut();
    const target = { namespace: 'tf', release: 'rel' };
    const stdin = Object.assign(new PassThrough(), { isTTY: o.tty ?? false });
    if (o.answer !== undefined) stdin.write(`${o.answer}\n`);
    const password = o.password;
    return {
      deps: {
        kubectl: new Kubectl(runner, 'kubectl', target),
        helm: new Helm(runner, 'helm', 4, target),
        log: new Logger({ out: out.stream, interactive: false, color: false }),
        stdout: stdout.stream,
        signal: new AbortController().signal,
        confirmIo: { yes: o.yes ?? true, stdin, prompt: out.stream },
        envFile: o.envFile ?? { path: '/nonexistent/.env', holder: 'none' },
        chart: '/chart',
        ...(password !== undefined && { generate: () => new Secret(password) }),
      },
      out: out.text,
      json: stdout.text,
    };
  };
  return c;
}
