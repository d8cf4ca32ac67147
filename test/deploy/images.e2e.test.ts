// The TaskFlow images are not published: on a local cluster whose Nodes lack them, deploy builds them
// first when the TaskFlow source is known, and otherwise refuses before writing anything (exit 2), as
// --dry-run and validate say ahead of time. Nodes that report no image list, and contexts that are not
// local, are never judged.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { makeSourceTree } from '../support/source-tree.ts';
import { type DeployEnv, deployEnv, doc } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

const IMAGES =
  'taskflow/sso-platform:0.1.0, taskflow/sso-platform-migrations:0.1.0, taskflow/api:0.1.0, taskflow/mcp-server:0.1.0 and taskflow/web-dashboard:0.1.0';
const MISSING = `${IMAGES} are on no node of kube context "kube-sim" and name no registry, so no pod can pull them: the TaskFlow images are not published, they are built from the TaskFlow source`;
const hint = (ns: string) =>
  `build them into the cluster from your TaskFlow checkout: npm run deploy -- -n ${ns} --build --src <path> (or set TASKFLOW_SRC in the env file)`;

interface CheckDoc {
  checks: { id: string; status: string; detail: string; hint?: string }[];
}

describe('deploy on a local cluster whose nodes lack the TaskFlow images', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    // The node holds postgres only (an add-on image, pulled from Docker Hub: never judged).
    sim = await startKubeSim({ scenario: { readyAfterMs: 100, nodeImages: ['postgres:16-alpine'] } });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    for (const c of cleanups) c();
    await sim?.stop();
  });
  /** A fresh folder with no env file at all: the first deploy would write one. */
  const env = (extra: NodeJS.ProcessEnv = {}, kubeconfig = sim.kubeconfigPath): DeployEnv => {
    const se = deployEnv({ kubeconfig, env: extra });
    rmSync(path.join(se.cwd, '.env'));
    envs.push(se);
    return se;
  };
  const released = (se: DeployEnv, ns: string) => se.helm(['list', '-n', ns, '-q']).stdout.trim();
  const validate = async (se: DeployEnv, args: string[]) => {
    const r = await runScript('preflight', ['--json', ...args], se);
    return {
      code: r.code,
      check: (JSON.parse(r.stdout) as CheckDoc).checks.find((c) => c.id === 'cluster.images'),
    };
  };
  /** A minikube on PATH that records its arguments and builds nothing. */
  const fakeMinikube = (se: DeployEnv): string => {
    const bin = path.join(se.cwd, 'fakebin');
    mkdirSync(bin);
    const log = path.join(se.cwd, 'minikube.log');
    writeFileSync(path.join(bin, 'minikube'), `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(path.join(bin, 'minikube'), 0o755);
    se.env.PATH = `${bin}:${se.env.PATH ?? ''}`;
    return log;
  };

  it('refuses without the TaskFlow source: exit 2, one message naming the images and the command, nothing written', async () => {
    const se = env();
    const r = await se.deploy(['--json', '-n', 'tf-refuse']);
    expect(r.code, r.stderr).toBe(2);
    expect(doc(r).failures).toEqual([
      {
        id: 'cluster.images',
        object: null,
        container: null,
        reason: 'ImagesMissing',
        detail: `${MISSING}. Nothing was changed.\nhint: ${hint('tf-refuse')}`,
        logs: null,
      },
    ]);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
    expect(errors).toEqual([`✗ ${MISSING}. Nothing was changed.`]);
    expect(r.stderr).toContain(hint('tf-refuse'));
    // Nothing written: no env file (with generated secrets), no release, no namespace, no write at all.
    expect(existsSync(path.join(se.cwd, '.env'))).toBe(false);
    expect(released(se, 'tf-refuse')).toBe('');
    expect(se.kubectl(['get', 'namespace', 'tf-refuse']).code).not.toBe(0);
    expect(se.calls().filter((c) => c.tool === 'helm' && c.args.includes('upgrade'))).toEqual([]);
  });

  it('--dry-run and validate say the same ahead of time', async () => {
    const se = env();
    const dry = await se.deploy(['--dry-run', '--json', '-n', 'tf-refuse']);
    expect(dry.code, dry.stderr).toBe(2);
    expect(doc(dry).failures.map((f) => [f.id, f.reason, f.detail])).toEqual([
      ['cluster.images', 'ImagesMissing', `${MISSING}. Nothing was changed.\nhint: ${hint('tf-refuse')}`],
    ]);
    expect(dry.stderr).toContain(hint('tf-refuse'));
    const v = await validate(se, ['-n', 'tf-refuse']);
    expect(v.code).toBe(1);
    expect(v.check).toEqual({
      id: 'cluster.images',
      title: 'TaskFlow images',
      status: 'fail',
      detail: MISSING,
      hint: `deploy refuses (exit 2); ${hint('tf-refuse')}`,
    });
    expect(existsSync(path.join(se.cwd, '.env'))).toBe(false);
  });

  it('with the TaskFlow source known (--src) it builds them first, says so, and deploys; a redeploy needs no build', async () => {
    const tree = makeSourceTree('phase4');
    cleanups.push(tree.cleanup);
    const se = env();
    const log = fakeMinikube(se);
    // validate and --dry-run say it ahead of time.
    const v = await validate(se, ['-n', 'tf-src', '--src', tree.dir]);
    expect(v.check).toMatchObject({
      status: 'warn',
      detail: MISSING,
      hint: `npm run deploy -- -n tf-src builds them from ${tree.dir} first (as --build), with minikube or docker`,
    });
    const dry = await se.deploy(['--dry-run', '-n', 'tf-src', '--src', tree.dir]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^\s+\d+\. build: /m);
    const said = `${IMAGES} are on no node and name no registry: building the images from ${tree.dir} first (as --build)`;
    expect(dry.stdout).toContain(said);

    const r = await se.deploy(['--json', '-n', 'tf-src', '--src', tree.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(said);
    const builds = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('image build'));
    expect(builds).toHaveLength(5);
    const pods = JSON.parse(se.kubectl(['get', 'pods', '-n', 'tf-src', '-o', 'json']).stdout) as {
      items: { spec: { containers: { image: string }[] } }[];
    };
    const images = pods.items.flatMap((p) => p.spec.containers.map((c) => c.image));
    expect(images.filter((i) => i.startsWith('taskflow/')).every((i) => /:[0-9a-f]{12}$/.test(i))).toBe(true);
    // The pods pulled the built images onto the node: a plain redeploy keeps them and builds nothing.
    const again = await se.deploy(['--json', '-n', 'tf-src']);
    expect(again.code, again.stderr).toBe(0);
    expect(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('image build')),
    ).toHaveLength(5);
    expect((await validate(se, ['-n', 'tf-src'])).check?.status).toBe('pass');
  });

  it('a context that is not local is not judged', async () => {
    const kubeconfig = path.join(sim.dir, 'remote-kubeconfig');
    writeFileSync(kubeconfig, readFileSync(sim.kubeconfigPath, 'utf8').replaceAll('kube-sim', 'shared-dev'));
    const se = env({}, kubeconfig);
    const v = await validate(se, ['-n', 'tf-remote']);
    expect(v.check).toMatchObject({
      status: 'skip',
      detail:
        'not judged: shared-dev is not a local cluster (minikube, kind, k3d, ...) (its nodes pull from registries)',
    });
    const dry = await se.deploy(['--dry-run', '-n', 'tf-remote', '--context', 'shared-dev']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(se.calls().some((c) => c.args.includes('nodes'))).toBe(false);
  });

  it('nodes that report no image list cannot tell, and do not block', async () => {
    await sim.setScenario({ readyAfterMs: 100 });
    const se = env();
    const v = await validate(se, ['-n', 'tf-nolist']);
    expect(v.check).toMatchObject({
      status: 'skip',
      detail: 'cannot tell: a node reports no image list (status.images)',
    });
    const r = await se.deploy(['--json', '-n', 'tf-nolist']);
    expect(r.code, r.stderr).toBe(0);
    expect(released(se, 'tf-nolist')).toBe('taskflow');
    expect(existsSync(path.join(se.cwd, '.env'))).toBe(true);
  });
});
