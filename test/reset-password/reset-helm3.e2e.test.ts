import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimRelease, simRelease } from '../migrate/sim-release.ts';

describe('reset-db-password --rotate with helm 3 and kubectl 1.33', () => {
  let r: SimRelease;
  beforeAll(async () => {
    r = await simRelease({ ns: 'tf-helm3', toolset: 'v33', scenario: { readyAfterMs: 150 } });
  }, 180_000);
  afterAll(async () => r?.stop());

  it('rotates the api password through helm 3 (--reuse-values), then check agrees', async () => {
    const old = await r.secret('api-postgres', 'password');
    const res = await r.run('reset-db-password', ['api', '--rotate', '--yes', '--json', '-v']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, db: 'api', restarted: ['taskflow-api'] });
    expect(res.stderr).toMatch(/helm upgrade taskflow \S+ --install .*-f - .*--reuse-values/);
    const fresh = await r.secret('api-postgres', 'password');
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(old);
    expect(res.stdout + res.stderr).not.toContain(fresh);
    const url = await r.secret('taskflow-api', 'TASKFLOW_CHATKIT_DATABASE_URL');
    expect(url).toContain(`:${fresh}@`);
    expect((await r.run('reset-db-password', ['api', '--check'])).code).toBe(0);
  });
});
