import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { makeSourceTree } from '../support/source-tree.ts';
import { alive, deployEnv, doc, envValues, type DeployEnv } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

interface PodInfo {
  metadata: { name: string; uid: string };
  spec: { containers: { image: string }[] };
  status?: { containerStatuses?: { restartCount?: number }[] };
}

const SECRET_KEYS = ['POSTGRES_SSO_PASSWORD', 'POSTGRES_API_PASSWORD', 'BETTER_AUTH_SECRET'];
const POLL = 'pods,replicasets,deployments,statefulsets,jobs,pvc';

describe('deploy on the simulated cluster (helm 4)', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    // progressDeadlineScale 1: a never-ready pod must not end the Ctrl+C test's rollout early.
    sim = await startKubeSim({
      scenario: {
        images: { 'fail/never': { state: 'never-ready' } },
        readyAfterMs: 200,
        progressDeadlineScale: 1,
      },
    });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    for (const c of cleanups) c();
    await sim?.stop();
  });
  const env = (ns: string, extra: NodeJS.ProcessEnv = {}): DeployEnv => {
    const se = deployEnv({
      kubeconfig: sim.kubeconfigPath,
      envFile: `TASKFLOW_NAMESPACE=${ns}\n`,
      env: extra,
    });
    envs.push(se);
    return se;
  };
  const podList = (se: DeployEnv, ns: string) =>
    (JSON.parse(se.kubectl(['get', 'pods', '-n', ns, '-o', 'json']).stdout) as { items: PodInfo[] }).items;
  const pods = (se: DeployEnv, ns: string) =>
    podList(se, ns)
      .map(
        (p) =>
          `${p.metadata.name}/${p.metadata.uid}/${(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0).join(',')}`,
      )
      .sort();
  const secretData = (se: DeployEnv, ns: string) =>
    se.kubectl([
      'get',
      'secrets',
      'sso-postgres',
      'api-postgres',
      'sso-platform',
      '-n',
      ns,
      '-o',
      'jsonpath={.items[*].data}',
    ]).stdout;

  let main: DeployEnv;
  it('installs, prints reachable URLs, keeps secrets out of argv and output; a second run changes nothing', async () => {
    main = env('tf-main');
    const first = await main.deploy(['--json']);
    const d1 = doc(first);
    expect(first.code, first.stderr).toBe(0);
    expect(d1).toMatchObject({
      ok: true,
      release: 'taskflow',
      namespace: 'tf-main',
      revision: 1,
      failures: [],
    });
    expect(d1.services).toEqual([
      { name: 'web-dashboard', ready: true, url: 'http://localhost:3000' },
      { name: 'sso-platform', ready: true, url: 'http://localhost:3001' },
      { name: 'taskflow-api', ready: true, url: 'http://localhost:8000' },
      { name: 'mcp-server', ready: true, url: 'http://localhost:8001' },
    ]);
    expect(first.stderr).toMatch(/databases accept their passwords; health endpoints answer/);
    expect(first.stderr).toMatch(/npm run port-forward/);
    // The URLs are reachable: the health checks went through the API server's service proxy, all four
    // through one kubectl proxy on a unix socket in a private folder, stopped and removed afterwards.
    const proxies = main.calls().filter((c) => c.tool === 'kubectl' && c.args.includes('proxy'));
    expect(proxies).toHaveLength(1);
    const socket = proxies[0]?.args
      .find((a) => a.startsWith('--unix-socket='))
      ?.slice('--unix-socket='.length);
    expect(socket).toMatch(/taskflow-api-\w+\/api\.sock$/);
    expect(existsSync(path.dirname(socket ?? '/'))).toBe(false);
    expect(alive(proxies[0]?.pid ?? 0)).toBe(false);
    expect(main.calls().filter((c) => c.args.some((a) => /\/proxy\//.test(a)))).toHaveLength(0);
    // Secrets were generated, written back to the env file, and never shown nor put in argv.
    const values = envValues(main.envFile());
    const secrets = SECRET_KEYS.map((k) => values[k] ?? '');
    for (const s of secrets) expect(s).toMatch(/^[0-9a-f]{32}$/);
    for (const s of secrets) {
      expect(main.argvText()).not.toContain(s);
      expect(first.stdout + first.stderr).not.toContain(s);
    }
    expect(
      main.calls().some((c) => c.tool === 'helm' && c.args[0] === 'upgrade' && c.args.includes('-')),
    ).toBe(true);
    expect(main.calls().some((c) => c.args.includes('--set'))).toBe(false);

    const before = { pods: pods(main, 'tf-main'), secrets: secretData(main, 'tf-main'), env: main.envFile() };
    const second = await main.deploy(['--json']);
    expect(second.code, second.stderr).toBe(0);
    // nothing differs: no upgrade, no new revision; the release is checked as after an upgrade
    expect(doc(second)).toMatchObject({ ok: true, revision: 1, upgraded: false });
    expect(pods(main, 'tf-main')).toEqual(before.pods);
    expect(secretData(main, 'tf-main')).toBe(before.secrets);
    expect(main.envFile()).toBe(before.env);
    for (const s of secrets) expect(main.argvText() + second.stdout + second.stderr).not.toContain(s);
  });

  it('the drift guard stops before touching the cluster', async () => {
    const se = main;
    const helmRevisions = () =>
      se.kubectl(['get', 'secrets', '-n', 'tf-main', '-l', 'owner=helm', '-o', 'name']).stdout;
    const before = {
      revisions: helmRevisions(),
      secrets: secretData(se, 'tf-main'),
      pods: pods(se, 'tf-main'),
    };
    const changed = se
      .envFile()
      .replace(/^POSTGRES_API_PASSWORD=.*$/m, 'POSTGRES_API_PASSWORD=0123456789abcdef0123456789abcdef');
    writeFileSync(path.join(se.cwd, '.env'), changed);
    // (deploy's comparison is a dry run: `helm upgrade --dry-run=server`, which changes nothing)
    const upgrades = () =>
      se.calls().filter((c) => c.args[0] === 'upgrade' && !c.args.includes('--dry-run=server')).length;
    const upgradesBefore = upgrades();
    const r = await se.deploy(['--json']);
    expect(r.code).toBe(1);
    const d = doc(r);
    expect(d.ok).toBe(false);
    expect(d.failures).toEqual([
      expect.objectContaining({
        id: 'db.password-drift',
        object: 'pvc/data-api-postgres-0',
        detail: expect.stringMatching(
          /remove POSTGRES_API_PASSWORD from the env file.*npm run reset-db-password -- api --rotate/,
        ),
      }),
    ]);
    expect(r.stderr).toMatch(/stopped before changing anything/);
    expect(upgrades()).toBe(upgradesBefore);
    expect(helmRevisions()).toBe(before.revisions);
    expect(secretData(se, 'tf-main')).toBe(before.secrets);
    expect(pods(se, 'tf-main')).toEqual(before.pods);
    expect(r.stdout + r.stderr + se.argvText()).not.toContain('0123456789abcdef0123456789abcdef');
    // Following the hint (drop the new value) deploys again with the cluster's password.
    writeFileSync(path.join(se.cwd, '.env'), changed.replace(/^POSTGRES_API_PASSWORD=.*\n/m, ''));
    const after = await se.deploy(['--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(secretData(se, 'tf-main')).toBe(before.secrets);
  });

  it('--build builds the five images by content tag; a redeploy without --build keeps them and restarts nothing', async () => {
    const se = env('tf-build');
    const fakeBin = path.join(se.cwd, 'fakebin');
    mkdirSync(fakeBin);
    const log = path.join(se.cwd, 'minikube.log');
    writeFileSync(path.join(fakeBin, 'minikube'), `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(path.join(fakeBin, 'minikube'), 0o755);
    const tree = makeSourceTree('phase4');
    cleanups.push(tree.cleanup);
    const src = tree.dir;
    se.env.PATH = `${fakeBin}:${se.env.PATH ?? ''}`;
    const r = await se.deploy(['--json', '--build', '--src', src]);
    expect(r.code, r.stderr).toBe(0);
    const builds = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('image build'));
    expect(builds).toHaveLength(5);
    expect(builds.join('\n')).toContain('--build-opt=build-arg=NEXT_PUBLIC_SSO_URL=http://localhost:3001');
    expect(builds.join('\n')).toContain('--build-opt=build-arg=NEXT_PUBLIC_APP_URL=http://localhost:3000');
    expect(builds.filter((l) => l.endsWith(path.join(src, 'sso-platform')))).toHaveLength(2);
    const images = () =>
      podList(se, 'tf-build')
        .flatMap((p) => p.spec.containers.map((c) => c.image))
        .filter((i) => i.startsWith('taskflow/'))
        .sort();
    expect(images()).toEqual([
      expect.stringMatching(/^taskflow\/api:[0-9a-f]{12}$/),
      expect.stringMatching(/^taskflow\/mcp-server:[0-9a-f]{12}$/),
      expect.stringMatching(/^taskflow\/sso-platform:[0-9a-f]{12}$/),
      expect.stringMatching(/^taskflow\/web-dashboard:[0-9a-f]{12}$/),
    ]);
    const before = { images: images(), pods: pods(se, 'tf-build') };
    const again = await se.deploy(['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(images()).toEqual(before.images);
    expect(pods(se, 'tf-build')).toEqual(before.pods);
  });

  it('--build on the apps/ layout bakes the URLs of a -f values file, with no secret in any argv', async () => {
    const se = env('tf-build-mono');
    const fakeBin = path.join(se.cwd, 'fakebin');
    mkdirSync(fakeBin);
    const log = path.join(se.cwd, 'docker.log');
    // One line per docker process, its arguments separated by a unit separator.
    writeFileSync(
      path.join(fakeBin, 'docker'),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\037' "$a"; done >> '${log}'\necho >> '${log}'\n`,
    );
    chmodSync(path.join(fakeBin, 'docker'), 0o755);
    const tree = makeSourceTree('monorepo', {
      redirectUris: ['https://app.example.com/api/auth/callback'],
    });
    cleanups.push(tree.cleanup);
    const prod = path.join(se.cwd, 'my-prod.yaml');
    writeFileSync(
      prod,
      [
        'web:',
        '  url: https://app.example.com',
        'api:',
        '  url: https://api.example.com',
        '  allowedOrigins: [https://app.example.com]',
        'sso:',
        '  auth:',
        '    url: https://sso.example.com',
        '    allowedOrigins: [https://app.example.com, https://sso.example.com]',
        '',
      ].join('\n'),
    );
    se.env.PATH = `${fakeBin}:${se.env.PATH ?? ''}`;
    const r = await se.deploy(['--json', '--build', '--builder', 'docker', '--src', tree.dir, '-f', prod]);
    expect(r.code, r.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\u001f').filter(Boolean));
    const builds = calls.filter((c) => c[0] === 'build');
    expect(builds.map((c) => path.relative(tree.dir, c.at(-1) ?? ''))).toEqual(
      expect.arrayContaining(['apps/sso', 'apps/sso', 'apps/api', 'apps/mcp-server', 'apps/web']),
    );
    const web = builds.find((c) => c.at(-1) === path.join(tree.dir, 'apps/web')) ?? [];
    const args = web.filter((_a, i) => web[i - 1] === '--build-arg');
    expect(args).toEqual([
      'NEXT_PUBLIC_API_URL=https://api.example.com',
      'NEXT_PUBLIC_APP_URL=https://app.example.com',
      'NEXT_PUBLIC_OAUTH_CLIENT_ID=taskflow-sso-public-client',
      'NEXT_PUBLIC_OAUTH_REDIRECT_URI=https://app.example.com/api/auth/callback',
      'NEXT_PUBLIC_OAUTH_SCOPE=openid profile email',
      'NEXT_PUBLIC_SSO_URL=https://sso.example.com',
    ]);
    const sso = builds.filter((c) => c.at(-1) === path.join(tree.dir, 'apps/sso'));
    for (const c of sso) expect(c).toContain('NEXT_PUBLIC_BETTER_AUTH_URL=https://sso.example.com');
    expect(sso.map((c) => c[c.indexOf('--target') + 1]).sort()).toEqual(['builder', 'runner']);
    // The web pod gets the same URL at run time (the Phase IV dashboard reads it there).
    const cm = JSON.parse(
      se.kubectl(['get', 'configmap', 'web-dashboard', '-n', 'tf-build-mono', '-o', 'json']).stdout,
    ) as {
      data: Record<string, string>;
    };
    expect(cm.data.NEXT_PUBLIC_APP_URL).toBe('https://app.example.com');
    const secrets = Object.values(envValues(se.envFile())).filter((v) => v.length >= 16);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const argv = readFileSync(log, 'utf8') + se.argvText();
    for (const s of secrets) expect(argv).not.toContain(s);
  });

  it('Ctrl+C during the rollout exits 130 and leaves no child process behind', async () => {
    const se = env('tf-int');
    const never = path.join(se.cwd, 'never.yaml');
    writeFileSync(never, 'mcp:\n  image:\n    repository: fail/never\n');
    let pid = 0;
    const run = se.deploy(['--timeout', '60s', '-f', never], { onStarted: (p) => (pid = p) });
    for (let i = 0; i < 300 && !se.calls().some((c) => c.args.includes(POLL)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(se.calls().some((c) => c.args.includes(POLL))).toBe(true);
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(r.code).toBe(130);
    const out = r.stdout + r.stderr;
    // what state the release is in, and the command that continues; no raw tool text
    expect(out).toContain(
      '✗ interrupted during the rollout watch: release taskflow is at revision 1 (deployed) in namespace tf-int',
    );
    expect(out).toContain(
      `hint: it runs; to watch the rollout and check it as deploy does: npm run deploy -- --timeout 60s -f ${never}`,
    );
    expect(out).not.toMatch(/kubectl failed|helm failed/);
    await new Promise((res) => setTimeout(res, 300));
    expect(se.calls().filter((c) => alive(c.pid))).toEqual([]);
  });

  it('SIGTERM during the helm upgrade: the release state instead of helm\'s "context canceled"', async () => {
    const se = env('tf-term');
    const first = await se.deploy(['--json']);
    expect(first.code, first.stderr).toBe(0);
    // A helm that takes its time over the upgrade and, stopped, answers like helm does.
    const slow = path.join(se.cwd, 'bin', 'slow-helm');
    writeFileSync(
      slow,
      `#!/bin/sh\ncase " $* " in *" --dry-run=server "*) ;; *" upgrade "*)\n  printf '%s\\n' "$$ upgrade" >> '${se.cwd}/slow.log'\n  sleep 60 & s=$!\n  trap 'kill $s; echo "level=WARN msg=\\"upgrade failed\\" error=\\"context canceled\\"" >&2; exit 1' TERM\n  wait $s\n  exit 1;;\nesac\nexec '${se.env.HELM}' "$@"\n`,
    );
    chmodSync(slow, 0o755);
    // a changed setting: this deploy upgrades (with nothing to change it would skip the upgrade)
    writeFileSync(
      path.join(se.cwd, '.env'),
      `${se.envFile()}ALLOWED_ORIGINS=http://localhost:3000,http://localhost:3001,http://localhost:4000\n`,
    );
    let pid = 0;
    const run = runScript(
      'deploy-one-command',
      ['--json'],
      { cwd: se.cwd, env: { ...se.env, HELM: slow } },
      { onStarted: (p) => (pid = p) },
    );
    const exists = () => {
      try {
        return readFileSync(path.join(se.cwd, 'slow.log'), 'utf8').includes('upgrade');
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 600 && !exists(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(exists()).toBe(true);
    process.kill(pid, 'SIGTERM');
    const r = await run;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(
      '✗ interrupted during the helm upgrade: release taskflow is at revision 1 (deployed) in namespace tf-term',
    );
    expect(r.stderr).not.toContain('context canceled');
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      namespace: 'tf-term',
      revision: 1,
      releaseStatus: 'deployed',
      error: { exitCode: 130 },
    });
  });
});
