import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolset } from '../../support/tools.ts';
import { PostgresBacking } from '../postgres/index.ts';
import { closePodStreams, runInContainer } from './index.ts';
import { kubectl, portForward, roundTrip, startHashBackend } from './kubectl-helpers.ts';
import type { PodProcessInfo, PodRuntime } from './runtime-types.ts';
import { startSimApi, type SimApi } from './sim-api.ts';

const DB_ENV = {
  POSTGRES_USER: 'taskflow_user',
  POSTGRES_PASSWORD: 'pa:ss/w@rd',
  POSTGRES_DB: 'taskflow_db',
};
const LOGIN = 'PGPASSWORD="$(cat)" psql -h 127.0.0.1 -U "$1" -d "$2" -tAc "select 1"';
const MiB = 1024 * 1024;

describe.each(['v35', 'v33'] as const)('real kubectl (%s) against the streaming layer', (name) => {
  const bin = toolset(name).kubectl;
  let root: string;
  let backing: PostgresBacking;
  let backend: Awaited<ReturnType<typeof startHashBackend>>;
  let api: SimApi;
  let runtime: PodRuntime;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'ksim-kubectl-'));
    backing = new PostgresBacking({ rootDir: root });
    backend = await startHashBackend();
    const db = await backing.start('ns/data-db-0', DB_ENV);
    const infos: Record<string, PodProcessInfo> = {
      web: {
        pod: { namespace: 'ns', name: 'web' },
        container: 'web',
        image: 'web:1',
        env: { GREETING: 'hi' },
      },
      'db-0': {
        pod: { namespace: 'ns', name: 'db-0' },
        container: 'postgres',
        image: 'postgres:16',
        env: DB_ENV,
        postgres: db,
      },
    };
    const targets: Record<string, number> = { 'web:8080': backend.port, 'db-0:5432': db.port };
    runtime = {
      exec: (req) => {
        const info = infos[req.pod.name];
        if (!info)
          return Promise.reject(
            Object.assign(new Error(`pods "${req.pod.name}" not found`), { statusCode: 404 }),
          );
        return runInContainer(info, req.command, req);
      },
      connectPort: async (pod, port) => {
        const target = targets[`${pod.name}:${port}`];
        if (target === undefined) throw new Error(`dial tcp4 127.0.0.1:${port}: connect: connection refused`);
        const s = net.connect(target, '127.0.0.1');
        await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
        return s;
      },
    };
    api = await startSimApi(runtime, [
      { name: 'web', containers: ['web'], ports: [8080] },
      { name: 'db-0', containers: ['postgres'], ports: [5432] },
    ]);
  });
  afterAll(async () => {
    await api?.close();
    await backend?.close();
    await backing?.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('exec passes output and the exit code through, over WebSocket and the SPDY fallback', async () => {
    for (const ws of ['true', 'false']) {
      const env = { ...api.env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS: ws };
      const r = await kubectl(
        bin,
        ['exec', 'web', '--', 'sh', '-c', 'echo "$GREETING"; echo err >&2; exit 3'],
        env,
      );
      expect(r).toEqual({ code: 3, stdout: 'hi\n', stderr: 'err\ncommand terminated with exit code 3\n' });
      const piped = await kubectl(bin, ['exec', '-i', 'web', '--', 'cat'], env, 'line 1\nline 2\n');
      expect(piped).toEqual({ code: 0, stdout: 'line 1\nline 2\n', stderr: '' });
      const missing = await kubectl(bin, ['exec', 'web', '--', 'bash'], env);
      expect(missing.code).toBe(127);
      expect(missing.stderr).toBe('sh: bash: not found\ncommand terminated with exit code 127\n');
    }
  });

  it('exec runs the real psql in a postgres pod: trusted socket, password-checked TCP', async () => {
    const who = await kubectl(
      bin,
      [
        'exec',
        'db-0',
        '--',
        'psql',
        '-U',
        'taskflow_user',
        '-d',
        'taskflow_db',
        '-tAc',
        'select current_user',
      ],
      api.env,
    );
    expect(who).toEqual({ code: 0, stdout: 'taskflow_user\n', stderr: '' });
    const login = [
      'exec',
      '-i',
      'db-0',
      '--',
      'sh',
      '-c',
      LOGIN,
      'login-check',
      'taskflow_user',
      'taskflow_db',
    ];
    expect(await kubectl(bin, login, api.env, DB_ENV.POSTGRES_PASSWORD)).toMatchObject({
      code: 0,
      stdout: '1\n',
    });
    const wrong = await kubectl(bin, login, api.env, 'not-the-password');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('password authentication failed for user "taskflow_user"');
  });

  it.each(['true', 'false'])(
    'port-forward (websockets=%s) carries concurrent multi-MiB connections intact',
    async (ws) => {
      const pf = await portForward(bin, 'pod/web', [8080], {
        ...api.env,
        KUBECTL_PORT_FORWARD_WEBSOCKETS: ws,
      });
      try {
        const port = pf.local[0] ?? 0;
        expect(await Promise.all([4 * MiB, 3 * MiB + 1, 1000, 1].map((n) => roundTrip(port, n)))).toEqual([
          true,
          true,
          true,
          true,
        ]);
        expect(pf.output().stdout).toContain('Handling connection for');
      } finally {
        await pf.stop();
      }
    },
  );

  it('port-forward reaches the database with scram logins', async () => {
    const pf = await portForward(bin, 'pod/db-0', [5432], api.env);
    try {
      const conn = { host: '127.0.0.1', port: pf.local[0], user: 'taskflow_user', database: 'taskflow_db' };
      const client = new pg.Client({ ...conn, password: DB_ENV.POSTGRES_PASSWORD });
      await client.connect();
      expect((await client.query('select current_database() as db')).rows).toEqual([{ db: 'taskflow_db' }]);
      await client.end();
      await expect(new pg.Client({ ...conn, password: 'wrong' }).connect()).rejects.toThrow(
        'password authentication failed',
      );
    } finally {
      await pf.stop();
    }
  });

  it('port-forward reports a refused connection and exits; so it does when the pod goes away', async () => {
    const refused = await portForward(bin, 'pod/web', [9999], api.env);
    net.connect(refused.local[0] ?? 0, '127.0.0.1').on('error', () => undefined);
    expect(await refused.exited).toBe(1);
    expect(refused.output().stderr).toContain(
      'an error occurred forwarding ' +
        String(refused.local[0]) +
        ' -> 9999: error forwarding port 9999 to pod web_ns, uid : dial tcp4 127.0.0.1:9999: connect: connection refused',
    );
    expect(refused.output().stderr).toMatch(/error: lost connection to pod\n$/);

    const pf = await portForward(bin, 'pod/web', [8080], api.env);
    expect(closePodStreams(runtime, { namespace: 'ns', name: 'web' })).toBe(1);
    expect(await pf.exited).toBe(1);
    expect(pf.output().stderr).toBe('error: lost connection to pod\n');
  });
});
