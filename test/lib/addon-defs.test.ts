import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { CHART_ADDON_NAMES } from '../../lib/addon-catalog.ts';
import { findObject, renderChart } from '../support/chart.ts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BUILTIN_ADDONS_DIR,
  addonFolders,
  definitionValues,
  formatProblem,
  loadAddonDefinitions,
  renderLogin,
  starterDefinition,
  ADDON_SCHEMA_PATH,
  reservedNames,
  isChartAddon,
} from '../../lib/addon-defs.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'addon-defs-'));
  mkdirSync(path.join(dir, 'addons'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the user's definitions and loads them after the built-ins; problems as a user reads them. */
function load(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'addons', name), text);
  const r = loadAddonDefinitions(addonFolders({ cwd: dir }));
  return { ...r, lines: r.problems.map((p) => formatProblem(p, dir)) };
}

/** The chart's own schema of one `addons.<name>` entry (charts/taskflow/values.schema.json). */
function chartAddonErrors(values: Record<string, unknown>): unknown[] {
  const chart = JSON.parse(
    readFileSync(path.join(BUILTIN_ADDONS_DIR, '..', 'values.schema.json'), 'utf8'),
  ) as {
    definitions: object;
  };
  // Only the add-on's part: other parts of that schema use regular expressions of Go, not of JavaScript.
  const validate = new Ajv({ strict: false, allErrors: true }).compile({
    definitions: chart.definitions,
    $ref: '#/definitions/addon',
  });
  return validate(values) ? [] : (validate.errors ?? []);
}

const BASE = `title: Tool
description: A tool.
image: example/tool:1.2.3
ports:
  - name: http
    port: 8080
    forward: 9001
`;

describe('built-in definitions', () => {
  it('every built-in loads clean, the schema included (which run time skips for them)', () => {
    const r = loadAddonDefinitions([BUILTIN_ADDONS_DIR], { schemaForBuiltins: true });
    expect(r.problems.map((p) => formatProblem(p))).toEqual([]);
    expect(r.defs.map((d) => [d.name, d.builtin])).toEqual([
      ['adminer', true],
      ['mailpit', true],
      ['pgadmin', true],
      ['swagger-ui', true],
    ]);
  });

  it('adminer reaches both databases and pre-fills the SSO database server', () => {
    const adminer = loadAddonDefinitions([BUILTIN_ADDONS_DIR]).defs.find((d) => d.name === 'adminer');
    expect(adminer && definitionValues(adminer)).toMatchObject({
      image: 'adminer:4.8.1-standalone',
      env: [{ name: 'ADMINER_DEFAULT_SERVER', fact: 'sso.database.host' }],
      databases: ['sso', 'api'],
    });
  });

  it("swagger-ui reads the forwarded API's document", () => {
    const swagger = loadAddonDefinitions([BUILTIN_ADDONS_DIR]).defs.find((d) => d.name === 'swagger-ui');
    expect(swagger && definitionValues(swagger).env).toEqual([
      { name: 'URL', value: 'http://localhost:8000/openapi.json' },
    ]);
  });

  it("their values pass the chart's schema of an add-on", () => {
    for (const def of loadAddonDefinitions([BUILTIN_ADDONS_DIR]).defs)
      expect(chartAddonErrors(definitionValues(def)), def.name).toEqual([]);
  });

  it("the chart's own (pgadmin, mailpit) pass the schema and the add-on part of the chart's, and name the image their values section runs", () => {
    const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(
      JSON.parse(readFileSync(ADDON_SCHEMA_PATH, 'utf8')) as object,
    );
    const chartValues = parse(
      readFileSync(path.join(BUILTIN_ADDONS_DIR, '..', 'values.yaml'), 'utf8'),
    ) as Record<string, { image: { repository: string; tag: string } }>;
    for (const name of CHART_ADDON_NAMES) {
      const data = parse(readFileSync(path.join(BUILTIN_ADDONS_DIR, `${name}.yaml`), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(validate(data) ? [] : validate.errors, name).toEqual([]);
      expect(chartAddonErrors({ enabled: true, ...data }), name).toEqual([]);
      // One image: the chart runs values <name>.image, which the definition names as well.
      const image = chartValues[name]!.image;
      expect(data.image, name).toBe(`${image.repository}:${image.tag}`);
    }
    // The loader leaves them to lib/addon-catalog.ts.
    // The loader reads them as well (validate checks them), marked as the chart's own.
    const loaded = loadAddonDefinitions([BUILTIN_ADDONS_DIR]).defs;
    expect(loaded.filter(isChartAddon).map((d) => d.name)).toEqual(['mailpit', 'pgadmin']);
  });

  it('the folders: built-ins, then --addons-dir or <cwd>/addons', () => {
    expect(addonFolders({ cwd: '/w' })).toEqual([BUILTIN_ADDONS_DIR, '/w/addons']);
    expect(addonFolders({ cwd: '/w', addonsDir: 'mine' })).toEqual([BUILTIN_ADDONS_DIR, '/w/mine']);
    expect(addonFolders({ cwd: '/w', addonsDir: '/elsewhere' })).toEqual([BUILTIN_ADDONS_DIR, '/elsewhere']);
  });
});

describe('reserved names', () => {
  it("hold every name the chart's values schema refuses for an add-on", () => {
    const schema = JSON.parse(
      readFileSync(path.join(BUILTIN_ADDONS_DIR, '..', 'values.schema.json'), 'utf8'),
    ) as {
      definitions: { addonName: { not: { enum: string[] } } };
    };
    const reserved = reservedNames();
    for (const name of schema.definitions.addonName.not.enum) expect(reserved.has(name), name).toBe(true);
    const r = load({ 'helm-test.yaml': BASE.replace('9001', '9011') });
    expect(r.lines).toEqual([
      "addons/helm-test.yaml:1:1: name helm-test is taken by the helm test pod's component",
    ]);
  });
});

describe('problems name the file, line and column', () => {
  it.each([
    [
      'a number out of range',
      BASE.replace('port: 8080', 'port: 70000'),
      'tool.yaml:6:11: ports[0].port must be <= 65535',
    ],
    ['an unknown key', `${BASE}imagee: x\n`, 'tool.yaml:8:1: imagee is not a known key'],
    ['a missing key', BASE.replace('title: Tool\n', ''), 'tool.yaml:1:1: title is required'],
    ['a wrong type', BASE.replace('title: Tool', 'title: [a]'), 'tool.yaml:1:8: title must be text'],
    [
      'an env item with two sources',
      `${BASE}env:\n  - { name: A, value: x, fact: api.url }\n`,
      'tool.yaml:9:5: env[0] sets value and fact: set exactly one of value, secret, configMap, fact',
    ],
    [
      'an env item with no source',
      `${BASE}env:\n  - name: A\n`,
      'tool.yaml:9:5: env[0] needs one of value, secret, configMap, fact',
    ],
    [
      'an unknown fact',
      `${BASE}env:\n  - { name: A, fact: api.uri }\n`,
      'tool.yaml:9:22: env[0].fact must be one of release, namespace, sso.url, api.url, mcp.url, web.url, sso.database.host, sso.database.port, sso.database.name, sso.database.user, api.database.host, api.database.port, api.database.name, api.database.user',
    ],
    [
      'a name that is no DNS label',
      `name: Bad_Name\n${BASE}`,
      "tool.yaml:1:7: name must be a DNS label of at most 40 characters (lowercase letters, digits and '-', starting with a letter); default: the file name without .yaml",
    ],
    [
      'a database other than sso/api',
      `${BASE}databases: [sso, web]\n`,
      'tool.yaml:8:18: databases[1] must be one of sso, api',
    ],
    [
      'a persistent volume without a size',
      `${BASE}volumes:\n  - { name: data, path: /data, persistent: true }\n`,
      'tool.yaml:9:5: volumes[0].size is required',
    ],
    [
      'the latest tag',
      BASE.replace('1.2.3', 'latest'),
      'tool.yaml:3:8: image example/tool:latest is not pinned: latest changes under you',
    ],
    ['no tag', BASE.replace(':1.2.3', ''), 'tool.yaml:3:8: image example/tool has no tag'],
    [
      'a platform name',
      `name: sso-platform\n${BASE}`,
      'tool.yaml:1:7: name sso-platform is taken by the sso Deployment',
    ],
    [
      "the chart's own add-on name",
      `name: pgadmin\n${BASE}`,
      "tool.yaml:1:7: name pgadmin is taken by the chart's pgAdmin add-on",
    ],
    [
      'a port name twice',
      `${BASE}  - name: http\n    port: 8081\n`,
      'tool.yaml:8:11: port name http is used twice',
    ],
    [
      "the platform's local port",
      BASE.replace('forward: 9001', 'forward: 8000'),
      "tool.yaml:7:14: ports[0].forward 8000 is taskflow-api's local port",
    ],
    [
      'a forward port twice',
      `${BASE}  - { name: admin, port: 8081, forward: 9001 }\n`,
      "tool.yaml:8:41: ports[1].forward 9001 is also port http's forward",
    ],
    [
      'a readiness probe on no port',
      `${BASE}readiness: { path: /, port: web }\n`,
      'tool.yaml:8:29: readiness.port web is not one of the ports',
    ],
    [
      'a file and a volume at one path',
      `${BASE}files:\n  - { path: /etc/x, content: x }\nvolumes:\n  - { name: x, path: /etc/x }\n`,
      'tool.yaml:11:22: volumes[0].path /etc/x is mounted twice',
    ],
    [
      'a login placeholder naming no port',
      `${BASE}login: |\n  Tool: {url.http}\n  Admin: {url.admin}\n`,
      'tool.yaml:10:10: login: {url.admin} names no port',
    ],
    [
      'an unknown login placeholder',
      `${BASE}login: |\n  user {fact sso.database.usr}\n`,
      'tool.yaml:9:8: login: {fact sso.database.usr} is not a placeholder',
    ],
    [
      'an env item that is no mapping',
      `${BASE}env: [FOO]\n`,
      'tool.yaml:8:7: env[0] must be a mapping (key: value)',
    ],
    ['a file of comments only', '# nothing yet\n', 'tool.yaml:1:1: the file is empty'],
    ['a file of text', 'adminer please\n', 'tool.yaml:1:1: the definition must be a mapping (key: value)'],
    ['a duplicate key', `${BASE}title: Again\n`, 'tool.yaml:8:1: not valid YAML: title appears twice'],
  ])('%s', (_what, text, expected) => {
    const r = load({ 'tool.yaml': text });
    expect(r.lines).toEqual([`addons/${expected}`]);
    expect(r.defs.map((d) => d.name)).toEqual(['adminer', 'mailpit', 'pgadmin', 'swagger-ui']);
  });

  it('every problem carries a hint', () => {
    const r = load({ 'tool.yaml': `${BASE}imagee: x\n` });
    expect(r.problems[0]?.hint).toBe(
      'did you mean image? keys here: name, title, description, image, ports, env, files, volumes, resources, securityContext, serviceAccountToken, command, args, readiness, liveness, startupSeconds, databases, rolls, login',
    );
    expect(load({ 'tool.yaml': BASE.replace('1.2.3', 'latest') }).problems[0]?.hint).toBe(
      'pin a version: example/tool:<version> (or a digest, example/tool@sha256:...)',
    );
  });

  it('each repeated key once, and a YAML syntax error', () => {
    expect(
      load({ 'a.yaml': `${BASE}title: Again\ndescription: Again\n`, 'b.yaml': `${BASE}env: [\n` }).lines,
    ).toEqual([
      'addons/a.yaml:8:1: not valid YAML: title appears twice',
      'addons/a.yaml:9:1: not valid YAML: description appears twice',
      expect.stringMatching(/^addons\/b\.yaml:\d+:\d+: not valid YAML: /),
    ]);
  });

  it("a user's definition cannot replace a built-in", () => {
    expect(load({ 'adminer.yaml': BASE }).lines).toEqual([
      'addons/adminer.yaml:1:1: adminer is a built-in add-on (charts/taskflow/addons/adminer.yaml): a definition cannot replace it',
    ]);
  });

  it('a name defined twice is a problem of the second file', () => {
    const r = load({
      'a.yaml': `name: tool\n${BASE}`,
      'b.yaml': `name: tool\n${BASE.replace('9001', '9002')}`,
    });
    expect(r.lines).toEqual([
      `addons/b.yaml:1:7: name tool is already defined by ${path.join(dir, 'addons', 'a.yaml')}`,
    ]);
    expect(r.defs.map((d) => d.name)).toEqual(['adminer', 'mailpit', 'pgadmin', 'swagger-ui', 'tool']);
  });

  it("a forward port of another add-on's", () => {
    expect(load({ 'tool.yaml': BASE.replace('9001', '8081') }).lines).toEqual([
      "addons/tool.yaml:7:14: ports[0].forward 8081 is already add-on adminer's local port",
    ]);
  });

  it('a file name that gives no valid name, and an empty file', () => {
    const long = `${'a'.repeat(41)}.yaml`;
    expect(load({ 'My_Tool.yml': BASE, 'empty.yaml': '', [long]: BASE }).lines).toEqual([
      'addons/My_Tool.yml:1:1: the file name gives the name My_Tool, which is not a DNS label of at most 40 characters',
      `addons/${long}:1:1: the file name gives the name ${'a'.repeat(41)}, which is not a DNS label of at most 40 characters`,
      'addons/empty.yaml:1:1: the file is empty',
    ]);
  });

  it('a folder that does not exist is skipped', () => {
    const r = loadAddonDefinitions([BUILTIN_ADDONS_DIR, path.join(dir, 'nothing')]);
    expect(r.problems).toEqual([]);
  });
});

describe('definitionValues', () => {
  it('gives the addons.<name> values of a full definition, which the chart renders with its facts', async () => {
    const full = `name: full
title: Full
description: Every feature.
image: registry.local:5000/team/full:2.0@sha256:${'a'.repeat(64)}
ports:
  - { name: http, port: 8080, forward: 9100 }
  - { name: admin, port: 9000 }
env:
  - { name: PLAIN, value: 'x' }
  - { name: PW, secret: { name: sso-postgres, key: password } }
  - { name: AUTH_URL, configMap: { name: sso-platform, key: BETTER_AUTH_URL } }
  - { name: API, fact: api.url }
  - { name: MCP, fact: mcp.url }
  - { name: DBHOST, fact: api.database.host }
  - { name: DBPORT, fact: api.database.port }
  - { name: REL, fact: release }
  - { name: NS, fact: namespace }
files:
  - { path: /etc/full/servers.json, content: '{}' }
  - { path: /run/secrets/pw, secret: { name: api-postgres, key: password } }
volumes:
  - { name: data, path: /var/lib/full, size: 256Mi }
  - { name: store, path: /srv, size: 1Gi, persistent: true }
resources:
  limits: { memory: 512Mi }
securityContext:
  runAsUser: 2000
serviceAccountToken: true
command: [/bin/full]
args: [--serve]
readiness: { path: /health, port: http }
databases: [api]
rolls: [sso-platform]
login: 'Full: {url.http}'
`;
    const r = load({ 'full.yaml': full });
    expect(r.lines).toEqual([]);
    const def = r.defs.find((d) => d.name === 'full')!;
    // The definition itself: the chart applies the defaults and resolves the facts.
    const values = definitionValues(def);
    expect(chartAddonErrors(values)).toEqual([]);
    const { name: _name, ...data } = parse(full) as Record<string, unknown>;
    expect(values).toEqual({ enabled: true, ...data });

    // Facts come from the release's own values: an external database host, its port, the release.
    const objects = await renderChart({
      release: 'taskflow',
      namespace: 'dev',
      values: {
        addons: { full: values },
        api: { database: { host: 'db.example.com', port: 6543, password: 'external-pass-0123456789' } },
      },
    });
    const env = findObject(objects, 'Deployment', 'full').spec as {
      template: { spec: { containers: { env: unknown[] }[] } };
    };
    expect(env.template.spec.containers[0]!.env).toEqual([
      { name: 'PLAIN', value: 'x' },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'sso-postgres', key: 'password' } } },
      { name: 'AUTH_URL', valueFrom: { configMapKeyRef: { name: 'sso-platform', key: 'BETTER_AUTH_URL' } } },
      { name: 'API', value: 'http://taskflow-api:8000' },
      { name: 'MCP', value: 'http://mcp-server:8001/mcp' },
      { name: 'DBHOST', value: 'db.example.com' },
      { name: 'DBPORT', value: '6543' },
      { name: 'REL', value: 'taskflow' },
      { name: 'NS', value: 'dev' },
    ]);
  });

  it('a minimal definition is passed as it is, on', () => {
    const def = load({ 'tool.yaml': BASE }).defs.find((d) => d.name === 'tool')!;
    expect(definitionValues(def)).toEqual({
      enabled: true,
      title: 'Tool',
      description: 'A tool.',
      image: 'example/tool:1.2.3',
      ports: [{ name: 'http', port: 8080, forward: 9001 }],
    });
  });
});

describe('renderLogin', () => {
  const adminer = () => loadAddonDefinitions([BUILTIN_ADDONS_DIR]).defs.find((d) => d.name === 'adminer')!;

  it('hides secrets without showPasswords and never reads them', async () => {
    const secret = vi.fn(async () => 's3cret');
    const lines = await renderLogin(adminer(), {
      urls: { http: 'http://localhost:8081' },
      secret,
      showPasswords: false,
    });
    expect(secret).not.toHaveBeenCalled();
    expect(lines.map((l) => l.text)).toEqual([
      'Adminer: http://localhost:8081 (System: PostgreSQL)',
      '  SSO database: server sso-postgres, user sso_user, database sso_db',
      '    password (--show-passwords)',
      '  API database: server api-postgres, user taskflow_user, database taskflow_db',
      '    password (--show-passwords)',
    ]);
    expect(lines.some((l) => l.secret)).toBe(false);
  });

  it('shows them with showPasswords, marking the lines that hold one', async () => {
    const lines = await renderLogin(adminer(), {
      urls: {},
      secret: async (name, key) => (name === 'sso-postgres' && key === 'password' ? 'sso-pw' : undefined),
      showPasswords: true,
    });
    expect(lines.filter((l) => l.secret).map((l) => l.text)).toEqual([
      '    password sso-pw',
      '    password (Secret api-postgres not found)',
    ]);
    expect(lines[0]?.text).toBe('Adminer: (not forwarded) (System: PostgreSQL)');
  });

  it("takes a database's facts from the release's values, as the chart does for the container", async () => {
    const lines = await renderLogin(adminer(), {
      urls: {},
      secret: async () => undefined,
      showPasswords: false,
      values: { api: { database: { host: 'db.example.com', port: 6543, name: 'tasks', user: '' } } },
    });
    expect(lines[3]?.text).toBe('  API database: server db.example.com, user taskflow_user, database tasks');
  });
});

describe('starterDefinition', () => {
  it('writes a commented definition that loads clean, with a free forward port', () => {
    const text = starterDefinition({ name: 'my-tool', image: 'example/tool:1.0', port: 8000 });
    expect(text).toContain('# env:');
    const r = load({ 'my-tool.yaml': text });
    expect(r.lines).toEqual([]);
    const def = r.defs.find((d) => d.name === 'my-tool');
    expect(def?.title).toBe('My Tool');
    expect(def?.ports).toEqual([{ name: 'http', port: 8000, forward: 8002 }]);
  });
});
