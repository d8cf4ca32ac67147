import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findObject, renderChart, renderError, secretData, type K8sObject } from '../support/chart.ts';
import type { ToolsetName } from '../support/tools.ts';
import { SERVER_DRY_RUN, startLookupCluster, type LookupCluster } from './lookup-cluster.ts';

const NS = 'kept-ns';
const RELEASE = 'kept';
const KEPT = {
  'sso-postgres': { password: 'kept-sso-password-1234' },
  'sso-platform': { BETTER_AUTH_SECRET: 'kept-auth-secret-kept-auth-secret-kept' },
  pgadmin: { password: 'kept-pgadmin-password' },
};

let cluster: LookupCluster;
beforeAll(async () => {
  cluster = await startLookupCluster({ namespace: NS, release: RELEASE, secrets: KEPT });
});
afterAll(() => cluster?.stop());

function render(toolset: ToolsetName, values: object): Promise<K8sObject[]> {
  return renderChart({
    toolset,
    values,
    release: RELEASE,
    namespace: NS,
    args: SERVER_DRY_RUN,
    env: cluster.env,
  });
}
function secret(objects: K8sObject[], name: string): Record<string, string> {
  return secretData(findObject(objects, 'Secret', name));
}

describe.each(['v35', 'v33'] as const)('helm lookup with %s', (toolset) => {
  test('no value given: the values already in the cluster are kept; only missing ones are generated', async () => {
    const objects = await render(toolset, { pgadmin: { enabled: true } });
    expect(secret(objects, 'sso-postgres').password).toBe('kept-sso-password-1234');
    expect(new URL(secret(objects, 'sso-platform').DATABASE_URL!).password).toBe('kept-sso-password-1234');
    expect(secret(objects, 'sso-platform').BETTER_AUTH_SECRET).toBe(KEPT['sso-platform'].BETTER_AUTH_SECRET);
    expect(secret(objects, 'pgadmin').password).toBe('kept-pgadmin-password');
    // api-postgres is not in the cluster: generated, and its URLs agree with it.
    const api = secret(objects, 'api-postgres').password!;
    expect(api).toMatch(/^[0-9a-f]{32}$/);
    expect(new URL(secret(objects, 'taskflow-api').DATABASE_URL!).password).toBe(api);
    expect(cluster.secretReads).toEqual(
      expect.arrayContaining(['sso-postgres', 'api-postgres', 'sso-platform', 'pgadmin']),
    );
  });

  test('a value given wins over the one in the cluster', async () => {
    const objects = await render(toolset, { sso: { database: { password: 'rotated-by-user-5678' } } });
    expect(secret(objects, 'sso-postgres').password).toBe('rotated-by-user-5678');
    expect(new URL(secret(objects, 'sso-platform').DATABASE_URL!).password).toBe('rotated-by-user-5678');
  });

  test('an external database without a password is accepted when the cluster keeps one', async () => {
    const objects = await render(toolset, {
      sso: { database: { host: 'ep-x-1.eu-central-1.aws.neon.tech' } },
    });
    expect(secret(objects, 'sso-platform').DATABASE_URL).toBe(
      'postgresql://sso_user:kept-sso-password-1234@ep-x-1.eu-central-1.aws.neon.tech:5432/sso_db?sslmode=require',
    );
    const err = await renderError({
      toolset,
      values: { api: { database: { host: 'db.example.com' } } },
      release: RELEASE,
      namespace: NS,
      args: SERVER_DRY_RUN,
      env: cluster.env,
    });
    expect(err).toContain(
      'api.database.host: the database is external (db.example.com) but no password is given',
    );
  });
});
