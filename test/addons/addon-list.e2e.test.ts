// npm run addon -- list as a user runs it: without a cluster, and on the simulated cluster with a release.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim } from '../kube-sim/index.ts';
import { type ScriptEnv, scriptEnv } from '../support/e2e.ts';
import { installRelease, run } from '../port-forward/e2e-helpers.ts';

const NS = 'tf-addon-list';

interface ListDoc {
  ok: boolean;
  context: string | null;
  namespace: string;
  addons: { name: string; source: string; on: boolean | null; ports: { name: string; local: number }[] }[];
  problems: { file: string; line: number; column: number; message: string }[];
  note?: string;
}

const onOf = (doc: ListDoc) => Object.fromEntries(doc.addons.map((a) => [a.name, a.on]));

describe('npm run addon -- list (scripts)', () => {
  it('without a cluster: every add-on, on unknown, a note, exit 0; a broken definition of TASKFLOW_ADDONS_DIR: exit 1', async () => {
    const se = scriptEnv({ envFile: 'TASKFLOW_ADDONS_DIR=team-addons\n' });
    try {
      const r = await run('addon', ['list', '--json'], se);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as ListDoc;
      expect(doc).toMatchObject({ ok: true, context: null, namespace: 'taskflow', problems: [] });
      // The first line says where it looked, even with no kube context (stderr with --json).
      expect(r.stderr.split('\n')[0]).toMatch(
        /^› namespace taskflow \(no kube context: .*\), release taskflow$/,
      );
      expect(doc.note).toMatch(/^on\/off unknown \(release taskflow in namespace taskflow\): /);
      expect(onOf(doc)).toEqual({ pgadmin: null, mailpit: null, adminer: null, 'swagger-ui': null });

      mkdirSync(path.join(se.cwd, 'team-addons'));
      writeFileSync(
        path.join(se.cwd, 'team-addons', 'tool.yaml'),
        'title: Tool\ndescription: x\nimage: a/tool:latest\nports:\n  - { name: http, port: 80 }\n',
      );
      const bad = await run('addon', ['list'], se);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(
        '✗ team-addons/tool.yaml:3:8: image a/tool:latest is not pinned: latest changes under you',
      );
      expect(bad.stdout).toMatch(/\nadminer +Adminer +built-in +\? +http :8081\n/);
    } finally {
      se.cleanup();
    }
  });

  describe('on the simulated cluster', () => {
    let sim: Awaited<ReturnType<typeof startKubeSim>>;
    let se: ScriptEnv;
    beforeAll(async () => {
      sim = await startKubeSim({ scenario: { readyAfterMs: 100 } });
      se = scriptEnv({ kubeconfig: sim.kubeconfigPath, envFile: `TASKFLOW_NAMESPACE=${NS}\n` });
      await installRelease(se, NS, { pgadmin: { enabled: true } });
    });
    afterAll(async () => {
      se?.cleanup();
      await sim?.stop();
    });

    it('reads the release: pgAdmin on, the others off', async () => {
      const r = await run('addon', ['list', '--json'], se);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as ListDoc;
      expect(doc).toMatchObject({ ok: true, context: 'kube-sim', namespace: NS, problems: [] });
      expect(doc.note).toBeUndefined();
      expect(onOf(doc)).toEqual({ pgadmin: true, mailpit: false, adminer: false, 'swagger-ui': false });
      expect(r.stderr.split('\n')[0]).toMatch(
        new RegExp(
          `^› context kube-sim \\(local, the simulated cluster, http://127\\.0\\.0\\.1:\\d+\\), namespace ${NS}, release taskflow$`,
        ),
      );
      const text = await run('addon', ['list'], se);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout.split('\n')[0]).toMatch(
        /^› context kube-sim \(local, .*\), namespace tf-addon-list, release taskflow$/,
      );
      expect(text.stdout).toMatch(/\npgadmin +pgAdmin +built-in +on +http :5050\n/);
    });

    it('a release that is not installed: on unknown, with the reason, exit 0', async () => {
      const r = await run('addon', ['list', '--json', '-n', 'nowhere'], se);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as ListDoc;
      expect(doc.note).toMatch(/not deployed in namespace "nowhere"|not installed/);
      expect(onOf(doc).pgadmin).toBeNull();
    });
  });
});
