import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  appTargets,
  isRequired,
  loadContract,
  ruleProblem,
  type ContractApp,
} from '../../lib/app-contract.ts';
import { chartDir, findObject, hasObject, type K8sObject } from '../support/chart.ts';
import { PROFILE_NAMES, render, type ProfileName } from './profiles.ts';
import { allContainers, container, resolveEnv, type EnvSource } from './workloads.ts';

const contract = loadContract();

/** Every container the contract describes that this render holds, with its resolved environment. */
function targets(objects: K8sObject[], app: ContractApp) {
  return appTargets(app)
    .filter((t) => hasObject(objects, t.workload.kind, t.workload.name))
    .map((t) => ({
      where: `${t.workload.kind}/${t.workload.name} ${t.container}`,
      env: resolveEnv(objects, container(findObject(objects, t.workload.kind, t.workload.name), t.container)),
    }));
}

/** The value to check a rule against: the rendered text, with $(PGPASSWORD) kept as it stands. */
const text = (s: EnvSource | undefined) => s?.value;

describe('the app contract file', () => {
  test('every variable has a source in the application, a required flag and a known rule', () => {
    for (const app of contract.apps) {
      for (const v of app.runtime) {
        expect(Object.keys(v.source).length, `${app.id} ${v.name}`).toBeGreaterThan(0);
        expect([true, false, 'smtp', 'no-smtp'], `${app.id} ${v.name}`).toContain(v.required);
        if (v.rule) expect(ruleProblem(v.rule, 'x') ?? '', `${app.id} ${v.name}`).not.toMatch(/unknown rule/);
      }
      for (const b of app.build ?? []) expect(b.value, `${app.id} ${b.name}`).not.toBe('');
    }
  });

  test('each source reference names a file:line (or same/absent) in both layouts', () => {
    for (const app of contract.apps) {
      for (const v of [...app.runtime, ...(app.build ?? [])]) {
        for (const layout of ['phase4', 'monorepo'] as const) {
          const ref = v.source[layout];
          if (ref === undefined) continue;
          expect(ref, `${app.id} ${v.name} ${layout}`).toMatch(/^(same|absent|[\w./[\]-]+:\d+)$/);
        }
      }
    }
  });

  test('the recorded layouts name the folders of both source trees', () => {
    expect(contract.source.layouts.phase4).toMatchObject({
      sso: 'sso-platform',
      api: 'packages/api',
      mcp: 'packages/mcp-server',
      web: 'web-dashboard',
    });
    expect(contract.source.layouts.monorepo).toMatchObject({
      sso: 'apps/sso',
      api: 'apps/api',
      mcp: 'apps/mcp-server',
      web: 'apps/web',
    });
  });

  test('it ships inside the chart folder', () => {
    expect(existsSync(path.join(import.meta.dirname, '../../charts/taskflow/app-contract.yaml'))).toBe(true);
  });
});

describe.each(PROFILE_NAMES)('profile %s meets the app contract', (profile: ProfileName) => {
  test('each container gets only variables its application reads, and none of the dead ones', async () => {
    const objects = await render(profile);
    for (const app of contract.apps) {
      const known = new Set(app.runtime.map((v) => v.name));
      for (const t of targets(objects, app)) {
        const extra = [...t.env.keys()].filter((n) => !known.has(n));
        expect(extra, `${profile}: ${t.where} gets variables its application does not read`).toEqual([]);
        expect(
          [...t.env.keys()].filter((n) => contract.dead.includes(n)),
          t.where,
        ).toEqual([]);
      }
    }
  });

  test('every required variable is present, with SMTP deciding the SMTP ones', async () => {
    const objects = await render(profile);
    const sso = contract.apps.find((a) => a.id === 'sso')!;
    const ssoEnv = targets(objects, sso)[0]?.env;
    const smtpOn = ssoEnv?.get('SMTP_HOST') !== undefined;
    for (const app of contract.apps) {
      for (const t of targets(objects, app)) {
        const missing = app.runtime
          .filter((v) => isRequired(v, smtpOn) && !t.env.has(v.name))
          .map((v) => v.name);
        expect(missing, `${profile}: ${t.where} (SMTP ${smtpOn ? 'on' : 'off'})`).toEqual([]);
        const unexpected = app.runtime
          .filter((v) => v.chart === false && t.env.has(v.name))
          .map((v) => v.name);
        expect(unexpected, `${profile}: ${t.where} sets what the chart never sets`).toEqual([]);
      }
    }
  });

  test('every value passes its rule; secrets come from Secrets; wired values are what the contract says', async () => {
    const objects = await render(profile);
    const web = findObjectOrUndefined(objects, 'ConfigMap', 'web-dashboard');
    for (const app of contract.apps) {
      for (const t of targets(objects, app)) {
        for (const v of app.runtime) {
          const got = t.env.get(v.name);
          if (!got) continue;
          const value = text(got);
          if (v.rule && value !== undefined) {
            expect(ruleProblem(v.rule, value), `${profile}: ${t.where} ${v.name}`).toBeUndefined();
          }
          if (v.secret && got.from !== 'secret') {
            // Only a URL to a database whose password is in an existingSecret: without a password (the
            // driver takes PGPASSWORD), or the SSO's on Neon, assembled by $(PGPASSWORD) expansion.
            expect(
              value?.includes(':$(PGPASSWORD)@') || new URL(value ?? 'x:').password === '',
              `${profile}: ${t.where} ${v.name} is a secret outside a Secret`,
            ).toBe(true);
          }
          if (v.wiring && 'service' in v.wiring) {
            expect(value, `${profile}: ${t.where} ${v.name}`).toBe(
              `http://${v.wiring.service}:${v.wiring.port}${v.wiring.path ?? ''}`,
            );
          } else if (v.wiring && !v.wiring.value.includes('{')) {
            expect(value, `${profile}: ${t.where} ${v.name}`).toBe(v.wiring.value);
          }
        }
      }
    }
    if (web) expect(Object.keys(web.data ?? {})).toContain('NEXT_PUBLIC_APP_URL');
  });
});

describe('no container depends on a download at start-up', () => {
  test.each(PROFILE_NAMES)('%s: no command or args call pnpm, corepack or npx', async (profile) => {
    const objects = await render(profile);
    for (const w of objects.filter((o) => ['Deployment', 'StatefulSet', 'CronJob', 'Pod'].includes(o.kind))) {
      for (const { container: c } of allContainers(w)) {
        const argv = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
        expect(argv, `${profile}: ${w.kind}/${w.metadata.name} ${c.name}`).not.toMatch(
          /\b(pnpm|corepack|npx)\b/,
        );
      }
    }
  });

  test('the SSO migrations run the binaries the contract names, as in package.json', async () => {
    const sso = contract.apps.find((a) => a.id === 'sso')!;
    const m = sso.facts?.migrations as {
      push: string;
      pushGuard: string;
      seed: string;
      seedProdFlag: string;
    };
    for (const [profile, seed] of [
      ['default', m.seed],
      ['prod', `${m.seed} ${m.seedProdFlag}`],
    ] as const) {
      const objects = await render(profile);
      for (const [kind, name] of [
        ['Deployment', 'sso-platform'],
        ['CronJob', 'sso-migrate'],
      ] as const) {
        const c = container(findObject(objects, kind, name), 'migrate');
        // The push runs under the chart's guard (drizzle-kit exits 0 when it fails), then the seed.
        expect(c.command, `${profile} ${kind}/${name}`).toEqual([
          'sh',
          '-c',
          `node -e "$1" && ${seed}`,
          'migrate',
          readFileSync(path.join(chartDir, m.pushGuard), 'utf8'),
        ]);
        const [bin, ...args] = m.push.split(' ');
        expect(c.command![4]).toContain(`spawn('${bin}', args`);
        expect(c.command![4]).toContain(`const args = [${args.map((a) => `'${a}'`).join(', ')}];`);
      }
    }
  });
});

function findObjectOrUndefined(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return hasObject(objects, kind, name) ? findObject(objects, kind, name) : undefined;
}

describe('rules catch what breaks the applications', () => {
  test.each([
    ['sso-database-url', 'postgresql://u:p@sso-postgres:5432/db?sslmode=disable', undefined],
    [
      'sso-database-url',
      'postgresql://u:p@ep-x.eu-central-1.aws.neon.tech:5432/db?sslmode=require',
      undefined,
    ],
    ['sso-database-url', 'postgresql://u:p@db.example.com:5432/db?sslmode=require', /Neon's HTTP driver/],
    ['api-database-url', 'postgresql://u:p@h:5432/db?sslmode=verify-full', undefined],
    ['api-database-url', 'postgresql://u:p@h:5432/db?sslmode=require&connect_timeout=5', /connect_timeout/],
    ['chat-database-url', 'postgresql://u:p@h:5432/db?sslmode=require', undefined],
    ['chat-database-url', 'postgresql://u:p@h:5432/db?ssl=verify-full', undefined],
    [
      'chat-database-url',
      'postgresql://u:p@h:5432/db?sslmode=verify-full',
      /not converted by the chat store/,
    ],
    ['chat-database-url', 'postgres://u:p@h:5432/db?sslmode=require', /only postgresql:\/\//],
    ['origin-list-strict', 'http://localhost:3000,http://localhost:3001', undefined],
    ['origin-list-strict', 'http://localhost:3000, http://localhost:3001', /spaces/],
    ['origin-list-strict', 'http://localhost:3000,', /empty entry/],
    ['origin-list', 'http://localhost:3000, http://localhost:3001', undefined],
    ['email-sender', 'TaskFlow <no-reply@taskflow.local>', undefined],
    ['email-sender', 'no-reply', /not an e-mail address/],
    ['log-level', 'warning', undefined],
    ['log-level', 'verbose', /not a log level/],
    ['true-or-false', 'True', /not "true" or "false"/],
  ] as const)('%s %s', (rule, value, problem) => {
    const got = ruleProblem(rule, value);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(problem);
  });
});
