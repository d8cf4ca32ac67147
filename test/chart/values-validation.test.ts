import { describe, expect, test } from 'vitest';
import { helmFindings } from '../../lib/chart.ts';
import { renderError } from '../support/chart.ts';

const BAD_PASSWORD = 'p@ss:w/rd+=?#%';

interface SchemaCase {
  name: string;
  values: object;
  /** What helm 4 and helm 3 both print for it (their wording differs, the gist must not). */
  expected: RegExp[];
}

// Values the schema rejects before anything renders.
const SCHEMA_CASES: SchemaCase[] = [
  {
    name: 'a database password with URL-unsafe characters',
    values: { sso: { database: { password: BAD_PASSWORD } } },
    expected: [/sso[./]database/, /password: must use only the characters A-Z a-z 0-9 \. _ ~ - \(others/],
  },
  {
    name: 'an API database password with a slash',
    values: { api: { database: { password: 'abc/def' } } },
    expected: [/api[./]database/, /password: must use only the characters/],
  },
  {
    name: 'an unknown key (a typo)',
    values: { sso: { smtp: { pasword: 'x' } } },
    expected: [/sso[./]smtp/, /additional propert(y|ies) '?pasword'? (is )?not allowed/i],
  },
  {
    name: 'an unknown top-level key',
    values: { pgAdmin: { enabled: true } },
    expected: [/additional propert(y|ies) '?pgAdmin'? (is )?not allowed/i],
  },
  {
    name: 'a BETTER_AUTH_URL that is not a URL',
    values: { sso: { auth: { url: 'localhost:3001' } } },
    expected: [/sso[./]auth[./]url/, /does not match pattern/i],
  },
  {
    name: 'an origin with a path',
    values: { api: { allowedOrigins: ['http://localhost:3000/'] } },
    expected: [/api[./]allowedOrigins[./]0/, /does not match pattern/i],
  },
  {
    name: 'an unknown NODE_ENV',
    values: { sso: { nodeEnv: 'staging' } },
    expected: [/sso[./]nodeEnv/, /must be one of|value must be one of/i],
  },
  {
    name: 'a port given as text',
    values: { sso: { smtp: { port: '587' } } },
    expected: [
      /sso[./]smtp[./]port/,
      /(got string, want integer|Invalid type\. Expected: integer, given: string)/,
    ],
  },
  {
    name: 'a short BETTER_AUTH_SECRET',
    values: { sso: { auth: { secret: 'too-short-secret' } } },
    expected: [/secret: must have at least 32 characters/],
  },
  {
    // Helm merges user maps into the defaults: null is how a user removes the limits.
    name: 'a container without limits',
    values: { web: { resources: { limits: null } } },
    expected: [/web[./]resources/, /limits/],
  },
];

describe.each(['v35', 'v33'] as const)('values.schema.json with %s', (toolset) => {
  test.concurrent.each(SCHEMA_CASES)('rejects $name, readably', async ({ values, expected }) => {
    const err = await renderError({ values, toolset });
    expect(err).toContain("values don't meet the specifications of the schema");
    for (const re of expected) expect(err).toMatch(re);
  });

  test('says a rule on a secret as a sentence: the value, its env key, the rule and the fix', async () => {
    const err = await renderError({
      values: { sso: { database: { password: 'Zm9vYmFy+/==' }, auth: { secret: 'too-short-secret' } } },
      toolset,
    });
    // helm does not keep one order between the two rules: compare as a set.
    expect(
      helmFindings(err)
        .filter((l) => l.startsWith('- '))
        .sort(),
    ).toEqual([
      '- sso.auth.secret (BETTER_AUTH_SECRET) must have at least 32 characters: use a random hex one (openssl rand -hex 32), or remove it to have deploy keep or generate one; the value is not shown here',
      '- sso.database.password (POSTGRES_SSO_PASSWORD) must use only the characters A-Z a-z 0-9 . _ ~ - (others break the database URL): use a hex password (openssl rand -hex 16), or remove it to have deploy generate one; the value is not shown here',
    ]);
  });

  test('never echoes a rejected password', async () => {
    const err = await renderError({ values: { sso: { database: { password: BAD_PASSWORD } } }, toolset });
    expect(err).not.toContain(BAD_PASSWORD);
    expect(err).not.toContain('p@ss');
    const short = await renderError({ values: { sso: { auth: { secret: 'too-short-secret' } } }, toolset });
    expect(short).not.toContain('too-short-secret');
  });

  test('reports several schema problems in one run', async () => {
    const err = await renderError({
      values: { sso: { nodeEnv: 'staging', smtpp: {} }, api: { database: { password: 'a b' } } },
      toolset,
    });
    expect(err).toMatch(/nodeEnv/);
    expect(err).toMatch(/smtpp/);
    expect(err).toMatch(/password: must use only the characters/);
  });
});

// Problems spanning several values: validateValues reports all of them at once, each with a hint.
const CROSS_CASES: { name: string; values: object; message: string }[] = [
  {
    name: 'a latest tag',
    values: { api: { image: { tag: 'latest' } } },
    message: 'api.image.tag: the tag "latest" is not allowed',
  },
  {
    name: 'plain http on a host other than localhost',
    values: {
      sso: {
        auth: {
          url: 'http://sso.taskflow.local',
          allowedOrigins: ['http://localhost:3000', 'http://sso.taskflow.local'],
        },
      },
    },
    message: 'sso.auth.url: http://sso.taskflow.local uses plain http on a host other than localhost',
  },
  {
    name: "origins without the SSO's own",
    values: { sso: { auth: { allowedOrigins: ['http://localhost:3000'] } } },
    message: "sso.auth.allowedOrigins: misses the SSO's own origin http://localhost:3001",
  },
  {
    name: 'origins without the web origin (web.url)',
    values: { sso: { auth: { allowedOrigins: ['http://localhost:3001'] } } },
    message: 'sso.auth.allowedOrigins: misses the web origin http://localhost:3000 (web.url)',
  },
  {
    name: 'an external SSO database that is not Neon',
    values: { sso: { database: { host: 'db.example.com', password: 'abc' } } },
    message:
      "sso.database.host: db.example.com is not a Neon host, and the SSO would talk to it with Neon's HTTP driver",
  },
  {
    name: 'verify-full for the API without a CA',
    values: { api: { database: { host: 'db.example.com', password: 'abc', sslmode: 'verify-full' } } },
    message:
      'api.database.sslmode: verify-full makes the API verify the server certificate, but no CA is given',
  },
  {
    name: 'SMTP without user and password',
    values: { sso: { smtp: { host: 'smtp.example.com' } } },
    message: 'sso.smtp: host is set but user or password is empty',
  },
  {
    name: 'port 465 without TLS',
    values: { sso: { smtp: { host: 'smtp.example.com', user: 'u', password: 'p', port: 465 } } },
    message: 'sso.smtp: port 465 and secure=false disagree',
  },
  {
    name: 'a password with two sources',
    values: { api: { database: { password: 'abc', existingSecret: 'mine' } } },
    message: 'api.database.password and api.database.existingSecret are both set; a password has one source.',
  },
  {
    name: 'an external database without a password',
    values: { api: { database: { host: 'db.example.com' } } },
    message: 'api.database.host: the database is external (db.example.com) but no password is given',
  },
  {
    name: 'ingress without hosts',
    values: { ingress: { enabled: true } },
    message: 'ingress.hosts: ingress is enabled but no host is set.',
  },
  {
    name: 'a pgAdmin e-mail on .local',
    values: { pgadmin: { enabled: true, email: 'admin@taskflow.local' } },
    message: 'pgadmin.email: admin@taskflow.local ends in .local',
  },
];

describe('validateValues', () => {
  test.concurrent.each(CROSS_CASES)('rejects $name with a hint', async ({ values, message }) => {
    const err = await renderError({ values });
    expect(err).toContain('VALUES VALIDATION: 1 problem(s)');
    expect(err).toContain(message);
    expect(err).toMatch(/\n {2}hint: \S/);
  });

  test('reports every problem at once (helm 3 too)', async () => {
    const values = {
      global: { imageTag: 'latest' },
      sso: { auth: { url: 'http://sso.example.com' }, smtp: { host: 'smtp.example.com', port: 465 } },
      ingress: { enabled: true, hosts: { web: 'app.example.com' } },
    };
    for (const toolset of ['v35', 'v33'] as const) {
      const err = await renderError({ values, toolset });
      const problems = err.split('\n').filter((l) => l.startsWith('- '));
      expect(problems.map((l) => l.split(':')[0])).toEqual([
        '- global.imageTag',
        '- sso.auth.url',
        '- sso.auth.allowedOrigins',
        '- sso.smtp',
        '- sso.smtp',
        '- web.url',
      ]);
      expect(err).toContain(`VALUES VALIDATION: ${problems.length} problem(s)`);
    }
  });

  test('an ingress web origin must be web.url, and allowed by the SSO and the API', async () => {
    const ingress = {
      enabled: true,
      hosts: { web: 'app.example.com', api: 'api.example.com' },
      tls: [{ secretName: 't', hosts: ['app.example.com'] }],
    };
    const err = await renderError({ values: { ingress } });
    expect(err).toContain(
      "web.url: http://localhost:3000 is not the dashboard's ingress origin https://app.example.com (ingress.hosts.web)",
    );
    expect(err).toContain(
      'api.url: http://localhost:8000 does not point at ingress.hosts.api (api.example.com)',
    );
    const err2 = await renderError({
      values: { ingress, web: { url: 'https://app.example.com' }, api: { url: 'https://api.example.com' } },
    });
    expect(err2).toContain(
      'sso.auth.allowedOrigins: misses the web origin https://app.example.com (web.url)',
    );
    expect(err2).toContain('api.allowedOrigins: misses the web origin https://app.example.com (web.url)');
  });
});
