import { describe, expect, it } from 'vitest';
import { collect } from '../../lib/doctor/collect.ts';
import { Helm } from '../../lib/helm.ts';
import { Kubectl } from '../../lib/kubectl.ts';
import { FakeRunner, json } from '../support/fake-runner.ts';
import { FIX, contractRender } from '../fixtures/render.ts';
import * as P from '../fixtures/pods.ts';

const target = { namespace: 'taskflow', release: 'taskflow' };
const NOW = Date.parse('2025-06-01T12:00:00Z');

/** A cluster holding the contract objects, a crashing API, a failing migration and two running databases. */
function cluster(login: (stdin: string | undefined) => string) {
  const objects = contractRender();
  const secrets = objects.filter((o) => o.kind === 'Secret');
  const listed = [
    ...objects.filter((o) => o.kind !== 'Secret'),
    P.CRASHING_API,
    P.FAILED_MIGRATE,
    P.RUNNING_DB('sso-postgres-0'),
    P.RUNNING_DB('api-postgres-0'),
  ];
  return new FakeRunner((args, stdin) => {
    const line = args.join(' ');
    if (
      line.startsWith(
        'get pods,deployments,statefulsets,jobs,pvc,configmaps -l app.kubernetes.io/instance=taskflow',
      )
    )
      return json({ items: listed });
    if (line.startsWith('get events')) {
      return json({
        items: [
          {
            type: 'Warning',
            involvedObject: { kind: 'Pod', name: P.CRASHING_API.metadata.name },
            reason: 'BackOff',
            message: 'Back-off restarting failed container',
            count: 7,
          },
        ],
      });
    }
    if (args[0] === 'status')
      return json({ name: 'taskflow', namespace: 'taskflow', version: 2, info: { status: 'deployed' } });
    if (line.startsWith('get secret')) return json({ kind: 'List', items: secrets });
    if (line.startsWith(`logs ${P.CRASHING_API.metadata.name}`))
      return { stdout: 'password authentication failed for user "taskflow_user"\n' };
    if (line.startsWith(`logs ${P.FAILED_MIGRATE.metadata.name}`)) return { stdout: 'drizzle: error\n' };
    if (args[0] === 'exec') return { stdout: login(stdin) };
    return { exitCode: 1, stderr: `unexpected: ${line}` };
  });
}

describe('collect', () => {
  it('reads the release in one batched pass, then one logs call per failing container and one login per database', async () => {
    const runner = cluster((pw) => (pw === FIX.ssoPw || pw === FIX.apiPw ? '1\n' : ''));
    const kubectl = new Kubectl(runner, 'kubectl', target);
    const helm = new Helm(runner, 'helm', 4, target);
    const snap = await collect(kubectl, helm, { release: 'taskflow', now: NOW });
    const lines = runner.lines();
    expect(lines.filter((l) => l.includes('get pods,deployments'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('get events'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('status'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('get secret'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(' logs '))).toEqual([
      `--namespace taskflow logs ${P.CRASHING_API.metadata.name} -c taskflow-api --previous --tail=20`,
      `--namespace taskflow logs ${P.FAILED_MIGRATE.metadata.name} -c migrate --previous --tail=20`,
    ]);
    // Per database one exec: the stored verifier read over the socket and the TCP login, together.
    expect(lines.filter((l) => l.includes(' exec ') && l.includes('login-check'))).toHaveLength(2);
    // And one in the SSO database for its signing keys (none here), tried with the SSO's running secret.
    expect(lines.filter((l) => l.includes(' exec ') && !l.includes('login-check'))).toEqual([
      expect.stringContaining('exec -i sso-postgres-0 -c postgres -- sh -c'),
    ]);
    expect(snap.authKey).toBeUndefined();
    expect(runner.recorded).toHaveLength(9);
    // Passwords only on stdin.
    expect(lines.join('\n')).not.toContain(FIX.ssoPw);
    expect(snap.failures.map((f) => [f.id, f.container, f.logs.trim(), f.events])).toEqual([
      [
        'pods.crashloop',
        'taskflow-api',
        'password authentication failed for user "taskflow_user"',
        ['BackOff: Back-off restarting failed container (x7)'],
      ],
      ['pods.init', 'migrate', 'drizzle: error', []],
    ]);
    expect(snap.dbAuth.map((a) => [a.db.db, a.result?.status, a.secret, a.urlMismatch])).toEqual([
      ['sso', 'ok', 'Secret sso-postgres key password', []],
      ['api', 'ok', 'Secret api-postgres key password', []],
    ]);
    expect(snap.secretTexts).toContain(FIX.authSecret);
  });

  it('reports a rejected login', async () => {
    const runner = cluster(() => '');
    const login = new FakeRunner(async (args, stdin) =>
      args[0] === 'exec'
        ? { exitCode: 2, stderr: 'FATAL:  password authentication failed for user "sso_user"' }
        : runner.reply(args, stdin),
    );
    const snap = await collect(new Kubectl(login, 'kubectl', target), new Helm(login, 'helm', 4, target), {
      release: 'taskflow',
      now: NOW,
    });
    expect(snap.dbAuth[0]?.result).toEqual({
      status: 'rejected',
      detail: 'password authentication failed for user "sso_user"',
    });
  });
});
