import { createHash } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../index.ts';
import { startKubectl, waitFor } from '../test-helpers.ts';
import { pattern } from './fake-runtime.ts';

const NS = 'streams';
const MiB = 1024 * 1024;
const LOGIN = 'PGPASSWORD="$(cat)" psql -h 127.0.0.1 -U "$1" -d "$2" -tAc "select 1"';

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ${NS}}
stringData: {password: first-password}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${NS}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: postgres
        image: postgres:16-alpine
        ports: [{containerPort: 5432}]
        env:
        - {name: POSTGRES_USER, value: app}
        - {name: POSTGRES_DB, value: appdb}
        - name: POSTGRES_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ${NS}}
spec: {selector: {app: db}, ports: [{port: 5432, targetPort: 5432}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: taskflow/web-dashboard:1.0.0
        ports: [{containerPort: 3000}]
        env: [{name: GREETING, value: hello}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 3000}]}
`;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** POSTs a body through a forwarded port; the pod's stand-in echoes it. */
function echo(port: number, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/echo', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(['v35', 'v33'] as const)(
  'exec and port-forward in the simulated cluster (kubectl %s)',
  (ts) => {
    let sim: KubeSim;
    const k = (args: string[], input?: string) => sim.kubectl(['-n', NS, ...args], { toolset: ts, input });
    const forward = async (target: string, port: number) => {
      const pf = startKubectl(sim, ['-n', NS, 'port-forward', target, `0:${port}`], ts);
      const local = await waitFor(
        () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1],
        15_000,
        'forwarding',
      );
      return { pf, port: Number(local) };
    };

    beforeAll(async () => {
      sim = await startKubeSim();
      expect((await k(['apply', '-f', '-'], MANIFESTS)).code).toBe(0);
      for (const w of ['statefulset/db', 'deployment/web']) {
        expect(await k(['rollout', 'status', w, '--timeout=60s'])).toMatchObject({ code: 0 });
      }
    });
    afterAll(async () => {
      await sim?.stop();
    });

    it('exec runs commands in app pods with the pod env, stdin and exit codes', async () => {
      expect(await k(['exec', 'deploy/web', '--', 'sh', '-c', 'echo "$GREETING"; exit 4'])).toEqual({
        code: 4,
        stdout: 'hello\n',
        stderr: 'command terminated with exit code 4\n',
      });
      expect(await k(['exec', '-i', 'deploy/web', '--', 'cat'], 'typed\n')).toEqual({
        code: 0,
        stdout: 'typed\n',
        stderr: '',
      });
      const psql = await k(['exec', 'deploy/web', '--', 'psql', '--version']);
      expect(psql).toMatchObject({
        code: 127,
        stderr: 'sh: psql: not found\ncommand terminated with exit code 127\n',
      });
    });

    it('exec runs psql in the postgres pod over the trusted socket', async () => {
      const r = await k([
        'exec',
        'db-0',
        '--',
        'psql',
        '-U',
        'app',
        '-d',
        'appdb',
        '-tAc',
        'select current_user, current_database()',
      ]);
      expect(r).toEqual({ code: 0, stdout: 'app|appdb\n', stderr: '' });
    });

    it('port-forward svc/web carries concurrent multi-MiB requests intact', async () => {
      const { pf, port } = await forward('svc/web', 80);
      try {
        const bodies = [4 * MiB, 2 * MiB + 3, 10].map((n) => pattern(n, n));
        const answers = await Promise.all(bodies.map((b) => echo(port, b)));
        expect(answers.map(sha)).toEqual(bodies.map(sha));
      } finally {
        await pf.stop();
      }
    });

    it('port-forward svc/db reaches the real database (scram-sha-256), several clients at once', async () => {
      const { pf, port } = await forward('svc/db', 5432);
      try {
        const blob = pattern(3 * MiB);
        const clients = [0, 1].map(
          () =>
            new pg.Client({
              host: '127.0.0.1',
              port,
              user: 'app',
              password: 'first-password',
              database: 'appdb',
            }),
        );
        await Promise.all(clients.map((c) => c.connect()));
        const [a, b] = clients as [pg.Client, pg.Client];
        const [up, down] = await Promise.all([
          a.query<{ h: string }>("select encode(sha256($1::bytea), 'hex') as h", [blob]),
          b.query<{ d: Buffer }>("select decode(repeat('ab', 2097152), 'hex') as d"),
        ]);
        expect(up.rows[0]?.h).toBe(sha(blob));
        expect(down.rows[0]?.d.length).toBe(2 * MiB);
        await Promise.all(clients.map((c) => c.end()));
        const wrong = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'app',
          password: 'nope',
          database: 'appdb',
        });
        await expect(wrong.connect()).rejects.toThrow('password authentication failed for user "app"');
      } finally {
        await pf.stop();
      }
    });

    it('keeps the first password after the Secret changes and the pod restarts (drift)', async () => {
      const login = ['exec', '-i', 'db-0', '--', 'sh', '-c', LOGIN, 'check', 'app', 'appdb'];
      expect(await k(login, 'first-password')).toMatchObject({ code: 0, stdout: '1\n' });
      await k([
        'create',
        'secret',
        'generic',
        'db',
        '--from-literal=password=second-password',
        '--dry-run=client',
        '-o',
        'yaml',
      ]).then((r) => k(['apply', '-f', '-'], r.stdout));
      expect((await k(['rollout', 'restart', 'statefulset/db'])).code).toBe(0);
      expect(await k(['rollout', 'status', 'statefulset/db', '--timeout=60s'])).toMatchObject({ code: 0 });
      expect((await k(['exec', 'db-0', '--', 'printenv', 'POSTGRES_PASSWORD'])).stdout).toBe(
        'second-password\n',
      );
      expect(await k(login, 'first-password')).toMatchObject({ code: 0, stdout: '1\n' });
      const drifted = await k(login, 'second-password');
      expect(drifted.code).toBe(2);
      expect(drifted.stderr).toContain('password authentication failed for user "app"');
    });

    it('an exec session ends with exit code 137 when its pod is deleted', async () => {
      const pod = (await k(['get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout.trim();
      const running = startKubectl(
        sim,
        ['-n', NS, 'exec', pod, '--', 'sh', '-c', 'echo started; sleep 30'],
        ts,
      );
      await waitFor(() => running.out().includes('started'), 10_000, 'exec output');
      expect((await k(['delete', pod, '--wait=false'])).code).toBe(0);
      expect(await running.exited).toBe(137);
      expect(running.err()).toBe('command terminated with exit code 137\n');
    });

    it('port-forward ends with "lost connection to pod" when its pod is deleted', async () => {
      const { pf } = await forward('pod/db-0', 5432);
      expect((await k(['delete', 'pod', 'db-0', '--wait=false'])).code).toBe(0);
      expect(await pf.exited).toBe(1);
      expect(pf.err()).toContain('lost connection to pod');
    });

    it('initialises afresh from the current Secret once the claim is deleted', async () => {
      expect((await k(['delete', 'statefulset/db'])).code).toBe(0);
      expect((await k(['delete', 'pvc', 'data-db-0', '--wait=true', '--timeout=30s'])).code).toBe(0);
      const apply = await k(['apply', '-f', '-'], MANIFESTS.replace('first-password', 'second-password'));
      expect(apply.code).toBe(0);
      expect(await k(['rollout', 'status', 'statefulset/db', '--timeout=60s'])).toMatchObject({ code: 0 });
      const login = ['exec', '-i', 'db-0', '--', 'sh', '-c', LOGIN, 'check', 'app', 'appdb'];
      expect(await k(login, 'second-password')).toMatchObject({ code: 0, stdout: '1\n' });
      expect((await k(login, 'first-password')).code).toBe(2);
    });
  },
);
