import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { freePort } from '../support/embedded-pg.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import {
  alive,
  httpStatus,
  installRelease,
  kubectlOut,
  run,
  startScript,
  childPids,
} from '../port-forward/e2e-helpers.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const NS = 'tf-addon';
const SMTP = {
  SMTP_HOST: 'smtp.example.com',
  SMTP_PORT: '587',
  SMTP_USER: 'mailer',
  SMTP_PASS: 'smtp-pass-abcdef123456',
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface AddonDoc {
  ok: boolean;
  action: string;
  revision: number | null;
  forward: { mode: string; pid?: number; forwards?: { url: string; state: string }[] };
  login: {
    url: string | null;
    email: string | null;
    password: string | null;
    servers?: { password?: string }[];
  };
}

describe('npm run addon / pgadmin on the simulated cluster', () => {
  let sim: Sim;
  let se: ScriptEnv;
  const k = (...args: string[]) => kubectlOut(se, [...args, '-n', NS]);
  const secrets = () =>
    k('get', 'secret', 'sso-postgres', 'api-postgres', 'sso-platform', '-o', 'jsonpath={.items[*].data}');
  const history = async () =>
    (await k('get', 'secrets', '-l', 'owner=helm', '-o', 'name')).split('\n').length;
  const configMap = async () =>
    (
      JSON.parse(await k('get', 'configmap', 'sso-platform', '-o', 'json')) as {
        data: Record<string, string>;
      }
    ).data;

  /** The admin login the pgAdmin Deployment in the cluster starts with (env, and the Secret it refers to). */
  const pgadminLogin = async () => {
    const d = JSON.parse(await k('get', 'deployment', 'pgadmin', '-o', 'json')) as {
      spec: { template: { spec: { containers: { name: string; env: EnvVar[] }[] } } };
    };
    const env = d.spec.template.spec.containers.find((c) => c.name === 'pgadmin')?.env ?? [];
    const get = (n: string) => env.find((e) => e.name === n);
    const ref = get('PGADMIN_DEFAULT_PASSWORD')?.valueFrom?.secretKeyRef;
    const b64 = ref ? await k('get', 'secret', ref.name, '-o', `jsonpath={.data.${ref.key}}`) : '';
    return {
      serverMode: get('PGADMIN_CONFIG_SERVER_MODE')?.value,
      email: get('PGADMIN_DEFAULT_EMAIL')?.value,
      password: Buffer.from(b64, 'base64').toString(),
    };
  };

  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
    const env = Object.entries({ TASKFLOW_NAMESPACE: NS, ...SMTP }).map(([k, v]) => `${k}=${v}`);
    se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `${env.join('\n')}\n` });
    await installRelease(se, NS, {
      sso: {
        smtp: {
          host: SMTP.SMTP_HOST,
          port: 587,
          user: SMTP.SMTP_USER,
          password: SMTP.SMTP_PASS,
          secure: false,
        },
      },
    });
  });
  afterAll(async () => {
    // A failed case may leave its background run: stop it by its pid file.
    if (se) await run('port-forward-all', ['--stop'], se);
    se?.cleanup();
    await sim?.stop();
  });

  it('pgadmin: on inside the release (values and secrets kept), login printed, idempotent', async () => {
    const before = await secrets();
    const first = await run('add-pgadmin', ['--no-forward', '--json'], se);
    expect(first.code, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout) as AddonDoc;
    expect(doc).toMatchObject({ ok: true, action: 'enabled', revision: 2, forward: { mode: 'none' } });
    expect(doc.login.email).toBe('admin@example.com');
    expect(doc.login.password).toMatch(/^\S{12,}$/);
    // The printed login is the one pgAdmin (server mode) was started with: its e-mail and Secret.
    expect(await pgadminLogin()).toEqual({
      serverMode: 'True',
      email: doc.login.email,
      password: doc.login.password,
    });
    expect(doc.login.servers?.every((s) => s.password === undefined)).toBe(true);
    expect(await secrets()).toBe(before);
    expect(await k('get', 'deployment', 'pgadmin', '-o', 'name')).toBe('deployment.apps/pgadmin');
    expect((await configMap()).SMTP_HOST).toBe(SMTP.SMTP_HOST);

    const revisions = await history();
    const again = await run('addon', ['pgadmin', '--no-forward', '--json'], se);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, action: 'already-on', revision: null });
    expect(await history()).toBe(revisions);
  });

  it('pgadmin --detach forwards on the asked port; --remove needs --yes without a terminal, then turns it off', async () => {
    const port = await freePort();
    const r = await run('add-pgadmin', ['--detach', '--port', String(port), '--json'], se);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as AddonDoc;
    expect(doc.forward).toMatchObject({
      mode: 'background',
      forwards: [{ url: `http://localhost:${port}`, state: 'ready' }],
    });
    expect(doc.login.url).toBe(`http://localhost:${port}`);
    expect(await httpStatus(port)).toBe(200);

    const refused = await run('addon', ['pgadmin', '--remove'], se);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('✗ turning pgAdmin off: add --yes to confirm without a terminal');

    const removed = await run('addon', ['pgadmin', '--remove', '--yes', '--json'], se);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ ok: true, action: 'removed' });
    expect(await k('get', 'deployment', 'pgadmin', '--ignore-not-found', '-o', 'name')).toBe('');
    // Its background forward went with it.
    expect(alive(doc.forward.pid ?? 0)).toBe(false);
    const again = await run('addon', ['pgadmin', '--remove', '--yes'], se);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('pgAdmin is not on in release "taskflow": nothing to do');
  });

  it('mailpit: the SSO mails to Mailpit while it is on; --remove restores the env file SMTP', async () => {
    const on = await run('addon', ['mailpit', '--no-forward'], se);
    expect(on.code, on.stdout + on.stderr).toBe(0);
    expect(on.stdout).toContain('the SSO sends its mail to mailpit:1025');
    expect(await configMap()).toMatchObject({ SMTP_HOST: 'mailpit', SMTP_PORT: '1025' });
    // The one SMTP rule: env-flow sees Mailpit win, so SMTP_HOST is set aside, not "differs (redeploy applies it)".
    const flow = await run('env-flow', ['SMTP_HOST', '--json'], se);
    expect(flow.code, flow.stdout + flow.stderr).toBe(0);
    const links = (
      JSON.parse(flow.stdout) as {
        settings: { links: { status: string; detail: string; live?: string }[] }[];
      }
    ).settings[0]?.links;
    expect(links?.map((l) => l.status)).toEqual(['off']);
    expect(links?.[0]?.detail).toContain('set aside while the Mailpit add-on is on');
    expect(flow.stdout).not.toContain('differs');

    const off = await run('addon', ['mailpit', '--remove', '--yes'], se);
    expect(off.code, off.stdout + off.stderr).toBe(0);
    expect(off.stdout + off.stderr).toContain(`the SSO sends its mail to ${SMTP.SMTP_HOST}:587 again`);
    expect(await configMap()).toMatchObject({
      SMTP_HOST: SMTP.SMTP_HOST,
      SMTP_PORT: SMTP.SMTP_PORT,
      SMTP_USER: SMTP.SMTP_USER,
    });
    expect(await k('get', 'secret', 'sso-platform', '-o', 'jsonpath={.data.SMTP_PASS}')).toBe(
      Buffer.from(SMTP.SMTP_PASS).toString('base64'),
    );
  });

  it('pgadmin and mailpit in the foreground print their login while forwarding; Ctrl+C stops the forward by pid; port-forward then serves every port', async () => {
    for (const [script, args, marker] of [
      ['add-pgadmin', ['--yes'], '  login:    admin@example.com / '],
      ['addon', ['mailpit'], 'the SSO sends its mail to mailpit:1025'],
    ] as const) {
      const port = await freePort();
      const fg = startScript(script, [...args, '--port', String(port)], se);
      let forwards: number[] = [];
      try {
        let exited = false;
        void fg.exited.then(() => (exited = true));
        // Until the login is printed, or the command died (then the output says why).
        await expect
          .poll(() => exited || fg.output().includes(marker), { timeout: 90_000, interval: 200 })
          .toBe(true);
        expect(fg.output()).toContain(marker);
        // Regression: the login's own kubectl read used to get the forward's output buffers.
        expect(fg.output()).not.toMatch(/SyntaxError|is not valid JSON|at Kubectl\./);
        expect(await httpStatus(port)).toBe(200);
        forwards = childPids(fg.pid);
        expect(forwards.length, fg.output()).toBeGreaterThan(0);
      } finally {
        expect(await fg.stop('SIGINT')).toBe(130);
      }
      for (const pid of forwards) expect(alive(pid), `${script}: forward pid ${pid}`).toBe(false);
      expect(await httpStatus(port, 300)).toBeUndefined();
    }
    // Ports of its own: another suite on the machine may forward the defaults at the same moment.
    const names = ['web', 'sso', 'api', 'mcp', 'pgadmin', 'mailpit'];
    const ports = await Promise.all(names.map(() => freePort()));
    const mapping = names.map((n, i) => `${n}=${ports[i]}`).join(',');
    const all = await run('port-forward-all', ['--ports', mapping, '--auto-ports', '--detach', '--json'], se);
    expect(all.code, all.stdout + all.stderr).toBe(0);
    const doc = JSON.parse(all.stdout) as {
      ok: boolean;
      pid: number;
      forwards: { name: string; localPort: number; state: string }[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.forwards.map((f) => f.name)).toEqual(expect.arrayContaining(names));
    for (const f of doc.forwards) expect([f.name, f.state]).toEqual([f.name, 'ready']);
    const stopped = await run('port-forward-all', ['--stop', '--json'], se);
    expect(stopped.code).toBe(0);
    expect(alive(doc.pid)).toBe(false);
    const off = await run('addon', ['mailpit', '--remove', '--yes'], se);
    expect(off.code, off.stderr).toBe(0);
  }, 240_000);

  it('helm 3 (--reuse-values): on and off again, values and secrets kept', async () => {
    const ns = 'tf-addon-h3';
    const h3 = scriptEnv({
      kubeconfig: sim.kubeconfigPath,
      toolset: 'v33',
      envFile: `TASKFLOW_NAMESPACE=${ns}\n`,
    });
    try {
      await installRelease(h3, ns);
      const data = () =>
        kubectlOut(h3, ['get', 'secret', 'sso-postgres', '-n', ns, '-o', 'jsonpath={.data}']);
      const before = await data();
      const on = await run('addon', ['pgadmin', '--no-forward', '--json'], h3);
      expect(on.code, on.stderr).toBe(0);
      expect(JSON.parse(on.stdout)).toMatchObject({ action: 'enabled', revision: 2 });
      const removed = await run('add-pgadmin', ['--remove', '--yes', '--json'], h3);
      expect(JSON.parse(removed.stdout)).toMatchObject({ action: 'removed', revision: 3 });
      expect(await data()).toBe(before);
    } finally {
      h3.cleanup();
    }
  });

  it.each([
    [['nope'], 2, 'unknown add-on "nope"', 'valid add-ons: pgadmin, mailpit'],
    [
      ['pgadmin', '-n', 'nowhere'],
      1,
      'release "taskflow" is not installed in namespace "nowhere"',
      'run npm run deploy first',
    ],
  ])('bad input %j: exit %i with one line and the next step', async (args, code, message, hint) => {
    const r = await run('addon', args, se);
    expect(r.code).toBe(code);
    expect(r.stdout).toContain(`✗ ${message}`);
    expect(r.stdout).toContain(hint);
  });
});
