import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../lib/checks.ts';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript, scriptEnv } from '../support/e2e.ts';
import { type DeployEnv, deployEnv, doc } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const PW_LOG = 'FATAL:  password authentication failed for user "taskflow_user"';
const MODULE_LOG = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'asyncpg'";
const OTHER_PW = '5555aaaa5555aaaa5555aaaa5555aaaa';

const hintOf = (detail: string) =>
  detail
    .split('\n')
    .find((l) => l.startsWith('hint: '))
    ?.slice('hint: '.length);

describe('a first deploy where no app image can be pulled (the images were never built)', () => {
  let sim: Sim;
  let se: DeployEnv;
  beforeAll(async () => {
    const pull = { state: 'pull-error' as const };
    sim = await startKubeSim({
      scenario: {
        images: {
          'taskflow/web-dashboard': pull,
          'taskflow/sso-platform': pull,
          'taskflow/api': pull,
          'taskflow/mcp-server': pull,
        },
        readyAfterMs: 200,
      },
    });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: 'TASKFLOW_NAMESPACE=tf-pull\n' });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it('one block names the four pods and gives the hint once; --json keeps one entry per pod', async () => {
    const r = await se.deploy(['--timeout', '5m']);
    expect(r.code, r.stderr).toBe(1);
    const out = r.stdout + r.stderr;
    const blocks = out.split('\n').filter((l) => l.startsWith('✗ pods.image'));
    expect(blocks).toEqual([
      expect.stringMatching(/^✗ pods\.image: 4 pods fail the same way \((ErrImagePull|ImagePullBackOff)/),
    ]);
    for (const [pod, container, image] of [
      ['web-dashboard', 'web-dashboard', 'taskflow/web-dashboard:0.1.0'],
      ['sso-platform', 'sso-platform', 'taskflow/sso-platform:0.1.0'],
      ['taskflow-api', 'taskflow-api', 'taskflow/api:0.1.0'],
      ['mcp-server', 'mcp-server', 'taskflow/mcp-server:0.1.0'],
    ]) {
      expect(out).toMatch(new RegExp(`\\n {4}pod/${pod}-\\S+ container ${container} \\(${image}\\)\\n`));
    }
    const hints = out.split('\n').filter((l) => l.includes("the chart's default tag"));
    expect(hints).toEqual([
      expect.stringMatching(/^ {2}hint: each of these images carries the chart's default tag 0\.1\.0/),
    ]);

    const j = await se.deploy(['--json', '--timeout', '5m']);
    expect(j.code, j.stderr).toBe(1);
    const d = doc(j);
    expect(d.failures.map((f) => [f.id, f.container]).sort()).toEqual([
      ['pods.image', 'mcp-server'],
      ['pods.image', 'sso-platform'],
      ['pods.image', 'taskflow-api'],
      ['pods.image', 'web-dashboard'],
    ]);
    for (const f of d.failures) {
      expect(Object.keys(f).sort()).toEqual(['container', 'detail', 'id', 'logs', 'object', 'reason']);
      expect(f.object).toMatch(/^pod\//);
      expect(hintOf(f.detail)).toMatch(/^taskflow\/[\w-]+:0\.1\.0 carries the chart's default tag/);
    }
  });
});

describe('deploy and doctor on the same crash give the same hint', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  beforeAll(async () => {
    sim = await startKubeSim({
      scenario: {
        images: {
          'fail/api-pw': { state: 'crash', exitCode: 1, logs: PW_LOG },
          'fail/api-module': { state: 'crash', exitCode: 1, logs: MODULE_LOG },
        },
        readyAfterMs: 200,
      },
    });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    await sim?.stop();
  });

  const env = (ns: string, image: string): { se: DeployEnv; file: string } => {
    const se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${ns}\n` });
    envs.push(se);
    const file = path.join(se.cwd, 'api.yaml');
    writeFileSync(file, `api:\n  image:\n    repository: ${image}\n`);
    return { se, file };
  };

  /** deploy's hint for the crashing API pod. */
  const deployHint = async (se: DeployEnv, file: string): Promise<string | undefined> => {
    const r = await se.deploy(['--json', '-f', file, '--timeout', '5m']);
    expect(r.code, r.stderr).toBe(1);
    const f = doc(r).failures.find((x) => x.id === 'pods.crashloop' && x.container === 'taskflow-api');
    expect(f, JSON.stringify(doc(r).failures)).toBeDefined();
    return hintOf(f?.detail ?? '');
  };

  /** doctor's hint for the crashing API pod, once it sees the crash and the login check it expects. */
  const doctorHint = async (ns: string, dbAuth: string): Promise<string | undefined> => {
    const se = scriptEnv({ kubeconfig: sim.kubeconfigPath });
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await runScript('doctor', ['-n', ns, '--json'], se);
        const d = JSON.parse(r.stdout) as CheckReport;
        const crash = d.checks.find((c) => c.id === 'pods.crashloop');
        const auth = d.checks.find((c) => c.id === 'db.auth');
        if ((crash?.status === 'fail' && auth?.status === dbAuth) || Date.now() > deadline) {
          expect(crash?.status).toBe('fail');
          expect(auth?.status).toBe(dbAuth);
          return crash?.hint;
        }
        await new Promise((res) => setTimeout(res, 500));
      }
    } finally {
      se.cleanup();
    }
  };

  it('a rejected password: restart while the database accepts its Secret, sync once it does not', async () => {
    const ns = 'tf-pw';
    const { se, file } = env(ns, 'fail/api-pw');
    // The platform runs first, so the database accepts logins when the API crashes, as it does when a
    // real API is told "password authentication failed" (the stand-in only prints it, at once, and the
    // database can still be starting then: the login check could not answer).
    const up = await se.deploy(['--json']);
    expect(up.code, up.stderr).toBe(0);
    const accepted = await deployHint(se, file);
    expect(accepted).toBe(
      `the api database accepts the password in its Secret (login checked), so this pod started with an older one: kubectl rollout restart deployment/taskflow-api -n ${ns}`,
    );
    expect(await doctorHint(ns, 'pass')).toBe(accepted);

    // The database's password changed behind the Secret's back: now it rejects the Secret's password.
    const alter = se.kubectl([
      'exec',
      '-n',
      ns,
      'api-postgres-0',
      '-c',
      'postgres',
      '--',
      'sh',
      '-c',
      `psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "ALTER ROLE taskflow_user PASSWORD '${OTHER_PW}'"`,
    ]);
    expect(alter.code, alter.stderr).toBe(0);
    const rejected = await deployHint(se, file);
    expect(rejected).toBe(
      'the api database rejects the password in its Secret too (login checked): make them agree: npm run reset-db-password -- api',
    );
    expect(await doctorHint(ns, 'fail')).toBe(rejected);
  });

  it('a ModuleNotFoundError crash gets the image hint, no password hint, from both', async () => {
    const ns = 'tf-module';
    const { se, file } = env(ns, 'fail/api-module');
    const hint = await deployHint(se, file);
    expect(hint).toBe(
      "the image of taskflow-api lacks code it imports (ModuleNotFoundError: No module named 'asyncpg'): it was built from other sources or an incomplete build; rebuild it from your TaskFlow checkout: npm run deploy -- --build",
    );
    expect(await doctorHint(ns, 'pass')).toBe(hint);
  });
});

describe('deploy --diff and --dry-run on a configuration the chart refuses; a changed database password', () => {
  let sim: Sim;
  let se: DeployEnv;
  const NS = 'tf-refuse';
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it('exit 2 with the chart\'s message in the suite\'s words, never 1 ("changes") nor UPGRADE FAILED', async () => {
    const first = await se.deploy(['--json']);
    expect(first.code, first.stderr).toBe(0);
    const bad = path.join(se.cwd, 'bad.yaml');
    writeFileSync(bad, 'sso:\n  auth:\n    allowedOrigins:\n      - http://localhost:3000\n');
    const schema = path.join(se.cwd, 'schema.yaml');
    writeFileSync(schema, 'web:\n  replicaCount: two\n');

    for (const args of [['--diff'], ['--diff', '--json'], ['--dry-run']]) {
      const r = await se.deploy([...args, '-f', bad]);
      const out = r.stdout + r.stderr;
      expect(r.code, `${args.join(' ')}: ${out}`).toBe(2);
      expect(out).toContain('the chart refuses this configuration (nothing was changed):');
      expect(out).toContain(
        "  - sso.auth.allowedOrigins: misses the SSO's own origin http://localhost:3001 (from sso.auth.url)",
      );
      expect(out).toContain('(set in bad.yaml)');
      expect(out).toContain('fix sso.auth.allowedOrigins in bad.yaml; npm run validate -- -f ');
      expect(out).not.toMatch(/UPGRADE FAILED|INSTALLATION FAILED|--debug flag|set from the env file/);
      if (args.includes('--json')) {
        const d = doc(r);
        expect(d.ok).toBe(false);
        expect(d.failures).toEqual([
          expect.objectContaining({
            id: 'diff',
            detail: expect.stringContaining('the chart refuses this configuration'),
          }),
        ]);
      }
    }
    const s = await se.deploy(['--diff', '-f', schema]);
    expect(s.code, s.stdout + s.stderr).toBe(2);
    expect(s.stdout + s.stderr).toContain(
      "its values schema (values.schema.json):\n  - at '/web/replicaCount': got string, want integer\n(set in schema.yaml)",
    );
    // a real change set is still exit 1
    const change = path.join(se.cwd, 'change.yaml');
    writeFileSync(change, 'web:\n  replicaCount: 2\n');
    expect((await se.deploy(['--diff', '-f', change])).code).toBe(1);
  });

  it('POSTGRES_API_PASSWORD changed: no "rollout restart statefulset" advice; the drift guard stops the deploy', async () => {
    writeFileSync(
      path.join(se.cwd, '.env'),
      se.envFile().replace(/POSTGRES_API_PASSWORD=.*/, `POSTGRES_API_PASSWORD=${OTHER_PW}`),
    );
    const diff = await se.deploy(['--diff']);
    expect(diff.code).toBe(1);
    const deploy = await se.deploy([]);
    expect(deploy.code).toBe(1);
    for (const out of [diff.stdout + diff.stderr, deploy.stdout + deploy.stderr]) {
      expect(out).not.toMatch(/rollout restart statefulset/);
      expect(out).toContain(
        'StatefulSet api-postgres reads Secret api-postgres, whose password would change: the api database keeps the password its volume data-api-postgres-0 was initialised with, and restarting it changes none',
      );
      expect(out).not.toContain(OTHER_PW);
    }
    expect(deploy.stdout + deploy.stderr).toContain('password drift: stopped before changing anything');
  });
});
