import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/kubectl.ts';
import { compareCompose, counterpartOf, parseCompose } from '../../lib/preflight/compose.ts';
import { findComposeFile } from '../../lib/preflight/context.ts';
import { repoRoot } from '../support/tools.ts';
import { contractRender, setKey } from '../fixtures/render.ts';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'compose');
const read = (f: string) =>
  parseCompose(readFileSync(path.join(FIXTURES, f), 'utf8'), path.join(FIXTURES, f));

/** The contract render plus the pgAdmin add-on and the optional OPENAI_API_KEY. */
function withAddons(): KubeObject[] {
  const objects = contractRender();
  setKey(objects, 'Secret', 'taskflow-api', 'OPENAI_API_KEY', 'sk-x');
  objects.push(
    {
      kind: 'Deployment',
      metadata: { name: 'pgadmin' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'pgadmin',
                env: [
                  { name: 'PGADMIN_DEFAULT_EMAIL', value: 'admin@example.com' },
                  {
                    name: 'PGADMIN_DEFAULT_PASSWORD',
                    valueFrom: { secretKeyRef: { name: 'pgadmin', key: 'password' } },
                  },
                ],
              },
            ],
          },
        },
      },
    },
    { kind: 'Service', metadata: { name: 'pgadmin' }, spec: { ports: [{ port: 80, targetPort: 'http' }] } },
  );
  // The API's flags, as the chart passes them.
  for (const [k, v] of Object.entries({ DEBUG: 'false', LOG_LEVEL: 'INFO', DEV_MODE: 'false' }))
    setKey(objects, 'ConfigMap', 'taskflow-api', k, v);
  return objects;
}

describe('parseCompose', () => {
  it('reads services, ports (short and long syntax) and variable names (map and list)', () => {
    const services = read('compose-drift.yaml');
    expect(services.map((s) => s.name)).toEqual(['postgres', 'api', 'web-dashboard', 'pgadmin', 'redis']);
    expect(services.find((s) => s.name === 'api')).toEqual({
      name: 'api',
      image: 'taskflow/api:latest',
      ports: [{ target: 8000, published: 8000 }],
      env: ['DATABASE_URL', 'SSO_URL', 'FEATURE_FLAGS', 'JWT_SECRET'],
    });
    expect(services.find((s) => s.name === 'pgadmin')?.ports).toEqual([{ target: 80, published: 5051 }]);
  });

  it('rejects a file without services', () => {
    expect(() => parseCompose('version: "3"\n')).toThrow('no services: section');
  });

  it('maps services to chart components by name or image', () => {
    const label = (name: string, image?: string) =>
      counterpartOf({ name, ports: [], env: [], ...(image && { image }) })?.label;
    expect(label('sso-platform')).toBe('sso');
    expect(label('backend', 'taskflow/api:1')).toBe('api');
    expect(label('db', 'postgres:16')).toBe('the databases (sso-postgres, api-postgres)');
    expect(label('pgadmin')).toBe('pgAdmin add-on');
    expect(label('redis', 'redis:7')).toBeUndefined();
  });
});

describe('compareCompose', () => {
  it('finds every service, port and variable of the platform compose file in the chart', () => {
    expect(compareCompose(read('compose.yaml'), withAddons())).toEqual({
      gaps: [],
      notes: [
        'service postgres: localhost:5432 → reach the databases (sso-postgres, api-postgres) with kubectl port-forward (not forwarded by default)',
      ],
    });
  });

  it('reports each difference on its own line', () => {
    const { gaps, notes } = compareCompose(read('compose-drift.yaml'), withAddons());
    expect(gaps).toEqual([
      'service api: variable FEATURE_FLAGS has no counterpart in taskflow-api',
      'service pgadmin: published on localhost:5051, npm run port-forward uses 5050',
      'service redis: no counterpart in the chart',
    ]);
    expect(notes).toContain('service api: JWT_SECRET dropped on purpose (no application reads it)');
    expect(notes).toContain(
      'service web-dashboard: NEXT_PUBLIC_API_URL is a build argument, not a run-time variable',
    );
  });

  it('notes a variable the chart sets only under other settings instead of calling it a gap', () => {
    const services = parseCompose(
      'services:\n  sso-platform:\n    image: taskflow/sso-platform\n    environment:\n      DISABLE_EMAIL_VERIFICATION: "true"\n',
      'compose.yaml',
    );
    expect(compareCompose(services, withAddons())).toEqual({
      gaps: [],
      notes: [
        'service sso-platform: DISABLE_EMAIL_VERIFICATION is set by the chart while SMTP is off (no SMTP_HOST, Mailpit off)',
      ],
    });
  });

  it('reports pgAdmin missing from the chart', () => {
    const { gaps } = compareCompose(read('compose.yaml'), contractRender());
    expect(gaps).toContain('service pgadmin: the chart renders no Deployment pgadmin (pgAdmin add-on)');
  });
});

describe('findComposeFile', () => {
  it('prefers --compose, then the working folder, then TASKFLOW_SRC', () => {
    expect(findComposeFile({ compose: 'x.yaml', cwd: '/w', env: {} })).toBe('/w/x.yaml');
    expect(findComposeFile({ cwd: FIXTURES, env: {} })).toBe(path.join(FIXTURES, 'compose.yaml'));
    expect(findComposeFile({ cwd: '/nonexistent', env: { TASKFLOW_SRC: FIXTURES } })).toBe(
      path.join(FIXTURES, 'compose.yaml'),
    );
    expect(findComposeFile({ cwd: '/nonexistent', env: {} })).toBeUndefined();
  });
});
