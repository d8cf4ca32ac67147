import { describe, expect, it } from 'vitest';
import type { DetailedFailure } from '../../lib/deploy/failure-details.ts';
import { failureImage, fromRollout, groupFailures } from '../../lib/deploy/report.ts';
import { secretLocations } from '../../lib/deploy/summary.ts';
import { chartAppVersion } from '../../lib/images.ts';

const pull = (image: string): DetailedFailure => ({
  id: 'pods.image',
  object: 'pod/web-dashboard-abc',
  pod: 'web-dashboard-abc',
  container: 'web-dashboard',
  reason: 'ImagePullBackOff',
  message: `container web-dashboard: ImagePullBackOff: Back-off pulling image "${image}"`,
  logs: '',
  previousLogs: false,
  events: [],
});

describe('a rollout failure on an image', () => {
  it("says plainly that the chart's default tag is built by nothing", () => {
    const version = chartAppVersion();
    expect(version).toBe('0.1.0');
    const detail = fromRollout(pull(`taskflow/web-dashboard:${version}`)).detail;
    expect(detail).toContain(
      `hint: taskflow/web-dashboard:${version} carries the chart's default tag ${version}, which no build produces`,
    );
    expect(detail).toContain('npm run deploy -- --build');
  });

  it('keeps the general hint for any other tag', () => {
    expect(fromRollout(pull('taskflow/web-dashboard:3f2a1b4c5d6e')).detail).toContain(
      'hint: the image cannot be pulled: build it into the cluster',
    );
  });
});

describe('the summary says where each secret really is', () => {
  it('an env file only when the value is in it; the Secret always', () => {
    const lines = secretLocations('.env', 'tf', {
      POSTGRES_SSO_PASSWORD: 'cluster',
      POSTGRES_API_PASSWORD: 'generated',
      BETTER_AUTH_SECRET: 'process-env',
    });
    expect(lines).toEqual([
      'POSTGRES_SSO_PASSWORD: Secret sso-postgres key password in namespace tf (kept from the cluster; not in .env)',
      'POSTGRES_API_PASSWORD: .env (generated now and saved there); Secret api-postgres key password in namespace tf',
      'BETTER_AUTH_SECRET: Secret sso-platform key BETTER_AUTH_SECRET in namespace tf (from the process environment; in no file)',
    ]);
    expect(
      secretLocations('my.env', 'tf', {
        ...Object.fromEntries([]),
        POSTGRES_SSO_PASSWORD: 'env-file',
      } as never)[0],
    ).toBe('POSTGRES_SSO_PASSWORD: my.env; Secret sso-postgres key password in namespace tf');
  });
});

describe('failures of one cause are one block in the human output', () => {
  const pullOf = (app: string, tag = '3f2a1b4c5d6e') =>
    fromRollout({
      ...pull(`taskflow/${app}:${tag}`),
      object: `pod/${app}-abc`,
      pod: `${app}-abc`,
      container: app,
    });

  it('groups the same id and hint (but for their own image and pod); the hint said of each', () => {
    const [a, b] = [pullOf('web-dashboard', chartAppVersion() ?? ''), pullOf('api', chartAppVersion() ?? '')];
    const groups = groupFailures([a, b]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.members).toEqual([a, b]);
    expect(groups[0]?.hint).toMatch(/^each of these images carries the chart's default tag/);
    expect(failureImage(a)).toBe(`taskflow/web-dashboard:${chartAppVersion() ?? ''}`);
  });

  it('ErrImagePull (the runtime names docker.io/...) and ImagePullBackOff of the same tag are one cause', () => {
    const v = chartAppVersion() ?? '';
    const backOff = pullOf('web-dashboard', v);
    const errPull = fromRollout({
      ...pull(`taskflow/api:${v}`),
      object: 'pod/api-abc',
      pod: 'api-abc',
      container: 'api',
      reason: 'ErrImagePull',
      message: `container api: ErrImagePull: rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/taskflow/api:${v}": pull access denied`,
    });
    expect(failureImage(errPull)).toBe(`taskflow/api:${v}`);
    expect(groupFailures([backOff, errPull])).toHaveLength(1);
  });

  it('another id, another hint or other logs: separate blocks; one failure keeps its own hint', () => {
    const image = pullOf('web-dashboard');
    const crash = (logs: string) =>
      fromRollout({
        id: 'pods.crashloop',
        object: 'pod/mcp-server-abc',
        pod: 'mcp-server-abc',
        container: 'mcp-server',
        reason: 'CrashLoopBackOff',
        message: 'container keeps crashing (exit code 1)',
        logs,
        previousLogs: true,
        events: [],
        namespace: 'tf',
      });
    const groups = groupFailures([image, crash('boom'), crash('bang')]);
    expect(groups.map((g) => g.members.length)).toEqual([1, 1, 1]);
    expect(groups[0]?.hint).toBe(
      'the image cannot be pulled: build it into the cluster (npm run deploy -- --build) or fix TASKFLOW_IMAGE_TAG / the image repository',
    );
  });
});
