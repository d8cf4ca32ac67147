// The Mailpit stand-in as the simulated cluster runs it (the program of image axllent/mailpit, with
// the add-on's env and probe, charts/taskflow/addons/mailpit.yaml), reached through port-forward by
// nodemailer at the SSO's lockfile version (7.0.11), configured as the SSO's src/lib/auth.ts does
// (host, port, secure false, user and password), and read back through Mailpit's v1 API.
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startKubeSim, type KubeSim } from '../kube-sim/index.ts';
import { startKubectl } from '../kube-sim/test-helpers.ts';
import { repoRoot } from '../support/tools.ts';

const MAILPIT = fileURLToPath(new URL('./mailpit.ts', import.meta.url));
const ns = 'mail';
let sim: KubeSim;
let stopForward: (() => Promise<unknown>) | undefined;
let smtpPort = 0;
let apiPort = 0;

const deployment = (env: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'mailpit' },
  spec: {
    selector: { matchLabels: { app: 'mailpit' } },
    template: {
      metadata: { labels: { app: 'mailpit' } },
      spec: {
        containers: [
          {
            name: 'mailpit',
            image: 'axllent/mailpit:v1.21.8',
            env: Object.entries(env).map(([name, value]) => ({ name, value })),
            ports: [
              { name: 'smtp', containerPort: 1025 },
              { name: 'http', containerPort: 8025 },
            ],
            readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
          },
        ],
      },
    },
  },
});
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'mailpit' },
  spec: {
    selector: { app: 'mailpit' },
    ports: [
      { name: 'smtp', port: 1025, targetPort: 'smtp' },
      { name: 'http', port: 8025, targetPort: 'http' },
    ],
  },
};

/** Deploys Mailpit with this env and forwards its two ports. */
async function deploy(env: Record<string, string>): Promise<void> {
  await stopForward?.();
  const yaml = [deployment(env), service].map((o) => YAML.stringify(o)).join('---\n');
  const r = await sim.kubectl(['apply', '-n', ns, '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
  const s = await sim.kubectl(['rollout', 'status', '-n', ns, 'deployment/mailpit', '--timeout=60s']);
  expect(s.code, s.stderr).toBe(0);
  const pf = startKubectl(sim, ['port-forward', '-n', ns, 'service/mailpit', ':1025', ':8025']);
  stopForward = () => pf.stop();
  await expect.poll(() => (pf.out().match(/127\.0\.0\.1:\d+ ->/g) ?? []).length, { timeout: 30_000 }).toBe(2);
  const ports = [...pf.out().matchAll(/127\.0\.0\.1:(\d+) -> (\d+)/g)];
  smtpPort = Number(ports.find((m) => m[2] === '1025')?.[1]);
  apiPort = Number(ports.find((m) => m[2] === '8025')?.[1]);
}

/** nodemailer as the SSO's auth.ts builds its transport (SMTP_SECURE unset: false). */
const transport = () =>
  nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    auth: { user: 'taskflow', pass: 'mailpit' },
  });
const api = async <T>(p: string, init?: RequestInit): Promise<T> => {
  const res = await fetch(`http://127.0.0.1:${apiPort}${p}`, init);
  expect(res.status, p).toBe(200);
  return (res.headers.get('content-type') ?? '').includes('json')
    ? ((await res.json()) as T)
    : ((await res.text()) as T);
};

interface Summary {
  ID: string;
  To: { Name: string; Address: string }[];
  From: { Name: string; Address: string };
  Subject: string;
  Username: string;
  Read: boolean;
  Snippet: string;
}
interface List {
  total: number;
  messages_count: number;
  messages: Summary[];
}

beforeAll(async () => {
  sim = await startKubeSim({
    scenario: {
      readyAfterMs: 50,
      images: {
        'axllent/mailpit': {
          program: { command: [process.execPath, '--import', 'tsx', MAILPIT], cwd: repoRoot },
        },
      },
    },
  });
  await sim.kubectl(['create', 'namespace', ns]);
}, 60_000);
afterAll(async () => {
  await stopForward?.();
  await sim?.stop();
});

describe('the Mailpit stand-in, as the add-on runs it, with the SSO’s nodemailer', () => {
  it('catches the verification mail; the v1 API lists, searches, shows and deletes it', async () => {
    await deploy({ MP_SMTP_AUTH_ACCEPT_ANY: '1', MP_SMTP_AUTH_ALLOW_INSECURE: '1' });
    const to = `verify-${Date.now()}@example.test`;
    await transport().sendMail({
      from: 'TaskFlow <no-reply@taskflow.local>',
      to,
      subject: 'Verify your Taskflow SSO account',
      html: '<p>Click <a href="http://localhost:3001/api/auth/verify-email?token=abc">verify</a></p>',
    });
    await transport().sendMail({
      from: 'no-reply@taskflow.local',
      to: 'other@example.test',
      subject: 'x',
      text: 'y',
    });

    const all = await api<List>('/api/v1/messages');
    expect(all.total).toBe(2);
    const found = await api<List>(`/api/v1/search?query=${encodeURIComponent(`to:${to}`)}`);
    expect(found.messages_count).toBe(1);
    const m = found.messages[0]!;
    expect(m).toMatchObject({
      To: [{ Name: '', Address: to }],
      From: { Name: 'TaskFlow', Address: 'no-reply@taskflow.local' },
      Subject: 'Verify your Taskflow SSO account',
      Username: 'taskflow',
      Read: false,
    });
    expect(m.ID).toMatch(/^[A-Za-z0-9]{22}$/);
    const full = await api<{ HTML: string; Text: string }>(`/api/v1/message/${m.ID}`);
    expect(full.HTML).toContain('href="http://localhost:3001/api/auth/verify-email?token=abc"');
    expect(
      (await api<List>(`/api/v1/search?query=${encodeURIComponent(`to:${to}`)}`)).messages[0]?.Read,
    ).toBe(true);
    expect(
      await api<string>('/api/v1/messages', {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ IDs: [m.ID] }),
      }),
    ).toBe('ok');
    expect((await api<List>('/api/v1/messages')).messages.map((x) => x.To[0]?.Address)).toEqual([
      'other@example.test',
    ]);
  });

  it('MP_SMTP_AUTH_ACCEPT_ANY without MP_SMTP_AUTH_ALLOW_INSECURE: it will not start, as Mailpit will not', async () => {
    await stopForward?.();
    stopForward = undefined;
    const bad = { ...deployment({ MP_SMTP_AUTH_ACCEPT_ANY: '1' }), metadata: { name: 'mailpit-tls' } };
    bad.spec.selector.matchLabels.app = 'mailpit-tls';
    bad.spec.template.metadata.labels.app = 'mailpit-tls';
    const r = await sim.kubectl(['apply', '-n', ns, '-f', '-'], { input: YAML.stringify(bad) });
    expect(r.code, r.stderr).toBe(0);
    const restarts = async () =>
      Number(
        (
          await sim.kubectl([
            'get',
            'pods',
            '-n',
            ns,
            '-l',
            'app=mailpit-tls',
            '-o',
            'jsonpath={.items[0].status.containerStatuses[0].restartCount}',
          ])
        ).stdout || 0,
      );
    await expect.poll(restarts, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    const logs = await sim.kubectl(['logs', '-n', ns, 'deployment/mailpit-tls', '--previous']);
    expect(logs.stdout + logs.stderr).toContain('authentication requires STARTTLS or TLS encryption');
  });
});
