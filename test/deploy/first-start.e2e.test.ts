import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { deployEnv, type DeployEnv } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

interface Pod {
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
}

describe('the API starts alone on a first install, then scales (helm 4 and helm 3)', () => {
  let sim: Sim;
  const envs: DeployEnv[] = [];
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
  });
  afterAll(async () => {
    for (const e of envs) e.cleanup();
    await sim?.stop();
  });

  it.each(['v35', 'v33'] as const)(
    '%s: one replica until it is Ready, then two; a redeploy changes nothing',
    async (toolset) => {
      const ns = `tf-first-${toolset}`;
      const se = deployEnv({
        kubeconfig: sim.kubeconfigPath,
        toolset,
        envFile: `TASKFLOW_NAMESPACE=${ns}\n`,
      });
      envs.push(se);
      const two = path.join(se.cwd, 'two-apis.yaml');
      writeFileSync(two, 'api:\n  replicaCount: 2\n');
      const r = await se.deploy(['--json', '-f', two]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('taskflow-api: first start done on 1 replica');

      // Revision 1 started one API replica; the second upgrade asked for two.
      const upgrades = se.calls().filter((c) => c.args[0] === 'upgrade');
      expect(upgrades).toHaveLength(2);
      const apiReplicas = (rev: number) => {
        const out = spawnSync(
          se.env.HELM ?? 'helm',
          ['get', 'manifest', 'taskflow', '-n', ns, '--revision', String(rev)],
          {
            env: se.env,
            encoding: 'utf8',
          },
        ).stdout;
        const doc = out
          .split('\n---')
          .find((d) => /kind: Deployment\n/.test(d) && /name: taskflow-api\n/.test(d));
        return Number(/\n {2}replicas: (\d+)/.exec(doc ?? '')?.[1]);
      };
      expect([apiReplicas(1), apiReplicas(2)]).toEqual([1, 2]);

      const pods = (
        JSON.parse(
          se.kubectl(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=api', '-o', 'json']).stdout,
        ) as { items: Pod[] }
      ).items.sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
      expect(pods).toHaveLength(2);
      const firstReady = pods[0]?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
      expect(firstReady?.lastTransitionTime).toBeDefined();
      // The second replica was created only after the first one was Ready.
      expect(Date.parse(pods[1]?.metadata.creationTimestamp ?? '')).toBeGreaterThanOrEqual(
        Date.parse(firstReady?.lastTransitionTime ?? ''),
      );

      const again = await se.deploy(['--json', '-f', two]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toContain('first start done');
      const replicas = JSON.parse(
        se.kubectl(['get', 'deployment', 'taskflow-api', '-n', ns, '-o', 'json']).stdout,
      ) as { spec: { replicas: number } };
      expect(replicas.spec.replicas).toBe(2);
    },
  );
});
