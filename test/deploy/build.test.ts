import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildArgv,
  contentTag,
  imageValues,
  listImagesArgv,
  parseImageList,
  planBuilds,
  runBuilds,
} from '../../lib/deploy/build.ts';
import { CHART_PATH } from '../../lib/context.ts';
import { parseSettings } from '../../lib/env.ts';
import type { UsageError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secrets.ts';
import { settingsToValues } from '../../lib/settings-values.ts';
import { type Values, chartValues } from '../../lib/values.ts';
import { makeSourceTree } from '../support/source-tree.ts';
import { FakeRunner } from '../support/fake-runner.ts';

const settings = parseSettings(
  { path: '.env', exists: false, entries: new Map(), duplicates: new Map() },
  {},
).settings;
const secrets = {
  ssoDbPassword: new Secret('a'.repeat(32)),
  apiDbPassword: new Secret('b'.repeat(32)),
  authSecret: new Secret('c'.repeat(64)),
  existing: [],
} as unknown as Parameters<typeof settingsToValues>[1];

describe('build argv', () => {
  it.each([
    [
      'minikube',
      [
        'minikube',
        'image',
        'build',
        '-p',
        'mk',
        '-t',
        'taskflow/web-dashboard:abc',
        '--build-opt=target=runner',
        '--build-opt=build-arg=A=1',
        '--build-opt=build-arg=B=x y',
        '/src/web',
      ],
    ],
    [
      'docker',
      [
        'docker',
        'build',
        '-t',
        'taskflow/web-dashboard:abc',
        '--target',
        'runner',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=x y',
        '/src/web',
      ],
    ],
  ] as const)('%s', (builder, argv) => {
    expect(
      buildArgv(builder, 'taskflow/web-dashboard:abc', '/src/web', 'runner', { B: 'x y', A: '1' }, 'mk'),
    ).toEqual(argv);
  });
  it('lists images and reads the listing without the default registry', () => {
    expect(listImagesArgv('minikube')).toEqual(['minikube', 'image', 'ls', '--format', 'short']);
    expect([...parseImageList('docker.io/taskflow/api:1\ndocker.io/library/postgres:16-alpine\n\n')]).toEqual(
      ['taskflow/api:1', 'postgres:16-alpine'],
    );
  });
});

describe('content tags and the build plan', () => {
  let src: string;
  const trees: { dir: string; cleanup: () => void }[] = [];
  /** The values a plain deploy gives the release, over the chart's defaults. */
  const values = (over: Values = {}) => chartValues(CHART_PATH, settingsToValues(settings, secrets), over);
  beforeAll(() => {
    const tree = makeSourceTree('phase4');
    trees.push(tree);
    src = tree.dir;
    for (const d of ['sso-platform', 'packages/api', 'packages/mcp-server', 'web-dashboard']) {
      mkdirSync(path.join(src, d, 'node_modules'), { recursive: true });
      writeFileSync(path.join(src, d, 'main.txt'), 'v1');
      writeFileSync(path.join(src, d, 'node_modules', 'dep.js'), 'ignored');
    }
  });
  afterAll(() => {
    for (const t of trees) t.cleanup();
  });

  it('depends on contents, target and build args, not on dependency folders', () => {
    const dir = path.join(src, 'packages/mcp-server');
    const t1 = contentTag(dir, undefined, {});
    expect(t1).toMatch(/^[0-9a-f]{12}$/);
    expect(contentTag(dir, undefined, {})).toBe(t1);
    writeFileSync(path.join(dir, 'node_modules', 'dep.js'), 'changed');
    expect(contentTag(dir, undefined, {})).toBe(t1);
    expect(contentTag(dir, 'runner', {})).not.toBe(t1);
    expect(contentTag(dir, undefined, { A: '1' })).not.toBe(t1);
    writeFileSync(path.join(dir, 'main.txt'), 'v2');
    expect(contentTag(dir, undefined, {})).not.toBe(t1);
  });

  it('plans five images with the browser URLs baked into SSO and web', () => {
    const builds = planBuilds({ src, builder: 'docker', values: values() });
    expect(builds.map((b) => b.spec.image)).toEqual([
      'taskflow/sso-platform',
      'taskflow/sso-platform-migrations',
      'taskflow/api',
      'taskflow/mcp-server',
      'taskflow/web-dashboard',
    ]);
    expect(builds[2]?.argv.at(-1)).toBe(path.join(src, 'packages/api'));
    expect(builds[0]?.argv).toContain('NEXT_PUBLIC_BETTER_AUTH_URL=http://localhost:3001');
    expect(builds[0]?.tag).not.toBe(builds[1]?.tag); // same folder, other target
    const web = builds[4]?.argv.join(' ') ?? '';
    for (const arg of [
      'NEXT_PUBLIC_SSO_URL=http://localhost:3001',
      'NEXT_PUBLIC_API_URL=http://localhost:8000',
      'NEXT_PUBLIC_APP_URL=http://localhost:3000',
      'NEXT_PUBLIC_OAUTH_CLIENT_ID=taskflow-sso-public-client',
      'NEXT_PUBLIC_OAUTH_REDIRECT_URI=http://localhost:3000/api/auth/callback',
      'NEXT_PUBLIC_OAUTH_SCOPE=openid profile email',
    ])
      expect(web).toContain(arg);
    expect(imageValues(builds)).toMatchObject({
      global: { imagePullPolicy: 'IfNotPresent' },
      sso: {
        image: { repository: 'taskflow/sso-platform', tag: builds[0]?.tag },
        migrations: { image: { tag: builds[1]?.tag } },
      },
      web: { image: { tag: builds[4]?.tag } },
    });
  });

  it('finds the apps/ layout too', () => {
    const mono = makeSourceTree('monorepo');
    trees.push(mono);
    const builds = planBuilds({ src: mono.dir, builder: 'docker', values: values() });
    expect(builds.map((b) => path.relative(mono.dir, b.argv.at(-1) ?? ''))).toEqual([
      'apps/sso',
      'apps/sso',
      'apps/api',
      'apps/mcp-server',
      'apps/web',
    ]);
  });

  it('bakes the URLs of a values file, not the env defaults', () => {
    const prod = values({
      web: { url: 'https://app.example.com' },
      api: { url: 'https://api.example.com' },
      sso: { auth: { url: 'https://sso.example.com' } },
    });
    const builds = planBuilds({ src, builder: 'docker', values: prod });
    const web = builds[4]?.argv.join(' ') ?? '';
    expect(web).toContain('NEXT_PUBLIC_APP_URL=https://app.example.com');
    expect(web).toContain('NEXT_PUBLIC_OAUTH_REDIRECT_URI=https://app.example.com/api/auth/callback');
    expect(web).toContain('NEXT_PUBLIC_API_URL=https://api.example.com');
    expect(web).toContain('NEXT_PUBLIC_SSO_URL=https://sso.example.com');
    expect(builds[0]?.argv).toContain('NEXT_PUBLIC_BETTER_AUTH_URL=https://sso.example.com');
  });

  it('a folder of neither layout names the Dockerfiles each layout needs', () => {
    expect(() =>
      planBuilds({ src: path.join(src, 'packages'), builder: 'docker', values: values() }),
    ).toThrow(/holds neither TaskFlow source layout/);
    try {
      planBuilds({ src: path.join(src, 'packages'), builder: 'docker', values: values() });
    } catch (err) {
      expect((err as UsageError).hint).toContain('apps/sso/Dockerfile');
      expect((err as UsageError).hint).toContain('sso-platform/Dockerfile');
    }
  });

  it('builds two at a time and skips images already present', async () => {
    const builds = planBuilds({ src, builder: 'minikube', values: values() });
    let running = 0;
    let peak = 0;
    const runner = new FakeRunner(async (args) => {
      if (args[1] === 'ls') return { stdout: `docker.io/${builds[3]?.ref}\n` };
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return {};
    });
    const r = await runBuilds(runner, builds, { builder: 'minikube' });
    expect(peak).toBe(2);
    expect(r.reused).toEqual([builds[3]?.ref]);
    expect(r.built).toHaveLength(4);
  });

  it('a failed build stops with its output tail', async () => {
    const builds = planBuilds({ src, builder: 'docker', values: values() });
    const runner = new FakeRunner((args) =>
      args[0] === 'image' ? {} : { exitCode: 1, stderr: 'step 3: npm ci failed' },
    );
    await expect(runBuilds(runner, builds, { builder: 'docker' })).rejects.toThrow(
      /building taskflow\/sso-platform:\w+ failed \(exit code 1\):\nstep 3: npm ci failed/,
    );
  });
});
