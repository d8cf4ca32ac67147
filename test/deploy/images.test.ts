import { describe, expect, it } from 'vitest';
import { CHART_PATH } from '../../lib/context.ts';
import {
  judgeImages,
  keptImageValues,
  namesRegistry,
  nodeImagesOf,
  normalImageName,
  platformImages,
  platformSource,
} from '../../lib/images.ts';
import { type Values, chartValues } from '../../lib/values.ts';

const local = { local: true, context: 'minikube', reason: 'minikube' };

describe('image references', () => {
  it.each([
    ['taskflow/api:1', false],
    ['api:1', false],
    ['docker.io/taskflow/api:1', true],
    ['ghcr.io/me/api:1', true],
    ['localhost/api:1', true],
    ['localhost:5000/api:1', true],
    ['registry:5000/api:1', true],
  ])('%s names a registry: %s', (image, expected) => {
    expect(namesRegistry(image)).toBe(expected);
  });

  it.each([
    ['docker.io/taskflow/api:1', 'taskflow/api:1'],
    ['docker.io/library/postgres:16-alpine', 'postgres:16-alpine'],
    ['index.docker.io/library/postgres', 'postgres:latest'],
    ['ghcr.io/me/api:1', 'ghcr.io/me/api:1'],
    ['localhost:5000/api', 'localhost:5000/api:latest'],
    ['docker.io/taskflow/api@sha256:00', 'taskflow/api@sha256:00'],
  ])('%s is compared as %s', (name, expected) => {
    expect(normalImageName(name)).toBe(expected);
  });
});

describe('the platform images a release runs', () => {
  const images = (...layers: Values[]) => platformImages(chartValues(CHART_PATH, ...layers));
  it('are the contract repositories tagged as the chart tags them', () => {
    expect(images()).toEqual([
      'taskflow/sso-platform:0.1.0',
      'taskflow/sso-platform-migrations:0.1.0',
      'taskflow/api:0.1.0',
      'taskflow/mcp-server:0.1.0',
      'taskflow/web-dashboard:0.1.0',
    ]);
    expect(images({ global: { imageTag: '1.4.0' }, api: { image: { tag: 'abcdef012345' } } })).toEqual([
      'taskflow/sso-platform:1.4.0',
      'taskflow/sso-platform-migrations:1.4.0',
      'taskflow/api:abcdef012345',
      'taskflow/mcp-server:1.4.0',
      'taskflow/web-dashboard:1.4.0',
    ]);
    expect(
      images({ sso: { enabled: false }, web: { enabled: false }, mcp: { image: { repository: 'me/mcp' } } }),
    ).toEqual(['taskflow/api:0.1.0', 'me/mcp:0.1.0']);
  });

  it('keep the content tags an earlier --build gave the release, with its pull policy', () => {
    expect(
      keptImageValues({
        api: { image: { repository: 'taskflow/api', tag: 'abcdef012345' } },
        web: { image: { tag: '1.4.0' } },
        global: { imagePullPolicy: 'IfNotPresent' },
      }),
    ).toEqual({
      api: { image: { repository: 'taskflow/api', tag: 'abcdef012345' } },
      global: { imagePullPolicy: 'IfNotPresent' },
    });
    expect(
      keptImageValues({ web: { image: { tag: '1.4.0' } }, global: { imagePullPolicy: 'Always' } }),
    ).toEqual({});
  });
});

describe('the TaskFlow source', () => {
  const file = (v: string) => ({ entries: new Map([['TASKFLOW_SRC', { value: v, line: 1 }]]) }) as never;
  it.each([
    ['--src wins', '/flag', { TASKFLOW_SRC: '/env' }, file('/file'), '/flag'],
    ['then the environment', undefined, { TASKFLOW_SRC: '/env' }, file('/file'), '/env'],
    ['then the env file', undefined, { TASKFLOW_SRC: ' ' }, file(' /file '), '/file'],
    ['else none', undefined, {}, undefined, undefined],
  ])('%s', (_why, flag, env, envFile, expected) => {
    expect(platformSource(flag, env, envFile)).toBe(expected);
  });
});

describe('judging the images against the Nodes', () => {
  const nodes = (...lists: (string[] | undefined)[]) =>
    nodeImagesOf({
      items: lists.map((l, i) => ({
        metadata: { name: `n${i}` },
        status: l ? { images: l.map((n) => ({ names: [n] })) } : {},
      })),
    });
  it.each([
    ['on a node', ['taskflow/api:1'], nodes(['docker.io/taskflow/api:1']), 'ok', []],
    [
      'on no node',
      ['taskflow/api:1', 'taskflow/web:1'],
      nodes(['docker.io/taskflow/api:1'], []),
      'missing',
      ['taskflow/web:1'],
    ],
    ['naming a registry', ['ghcr.io/me/api:1'], nodes([]), 'ok', []],
    ['nodes without lists', ['taskflow/api:1'], nodes(undefined, undefined), 'unknown', []],
    ['one node without a list, another with', ['taskflow/api:1'], nodes(undefined, []), 'unknown', []],
    [
      "a list at kubelet's cap",
      ['taskflow/api:1'],
      nodes(Array.from({ length: 50 }, (_, i) => `x/i${i}:1`)),
      'unknown',
      [],
    ],
  ] as const)('%s', (_why, images, n, status, missing) => {
    expect(judgeImages(images, local, n)).toMatchObject({ status, missing });
  });
  it('judges nothing on a context that is not local, or none', () => {
    const remote = { local: false, context: 'aks', reason: 'not a local cluster (minikube, kind, k3d, ...)' };
    expect(judgeImages(['taskflow/api:1'], remote, nodes([]))).toEqual({
      status: 'not-judged',
      missing: [],
      detail:
        'not judged: aks is not a local cluster (minikube, kind, k3d, ...) (its nodes pull from registries)',
    });
    expect(judgeImages(['taskflow/api:1'], undefined, nodes([])).status).toBe('not-judged');
  });
});
