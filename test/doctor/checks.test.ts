import { describe, expect, it } from 'vitest';
import { type CheckResult, runChecks } from '../../lib/checks.ts';
import { DATABASES } from '../../lib/components.ts';
import { DOCTOR_CHECKS } from '../../lib/doctor/checks.ts';
import { withNothingToCheck } from '../../lib/doctor/doctor.ts';
import {
  type Diagnosed,
  type DoctorSnapshot,
  isMinikubeNode,
  decryptFailureCount,
  rawUrlPasswords,
  stuckInit,
} from '../../lib/doctor/collect.ts';
import type { ReleaseStatus } from '../../lib/helm.ts';
import type { KubeObject } from '../../lib/kubectl.ts';
import { type Pod, podFailures } from '../../lib/pod-status.ts';
import { NOT_READY_MS, failedJobs, notReady } from '../../lib/doctor/workloads.ts';
import type { KubeEvent } from '../../lib/events.ts';
import * as P from '../fixtures/pods.ts';

const target = { namespace: 'taskflow', release: 'taskflow' };
const NOW = Date.parse('2025-06-01T12:00:00Z');
const deployed: ReleaseStatus = {
  name: 'taskflow',
  namespace: 'taskflow',
  version: 3,
  info: { status: 'deployed' },
};

/** The failures of pods, as collect would attach logs and events to them. */
function diagnose(pod: Pod, logs = '', events: string[] = []): Diagnosed[] {
  return [...podFailures(pod), ...stuckInit(pod, NOW)].map((f) => ({
    ...f,
    logs,
    events,
    minikube: isMinikubeNode(pod.spec?.nodeName),
    image:
      ((pod.spec?.containers as { name: string; image?: string }[] | undefined) ?? []).find(
        (c) => c.name === f.container,
      )?.image ??
      ((pod.spec?.initContainers as { name: string; image?: string }[] | undefined) ?? []).find(
        (c) => c.name === f.container,
      )?.image,
  }));
}

function snap(over: Partial<DoctorSnapshot> = {}): DoctorSnapshot {
  return {
    release: deployed,
    objects: [],
    events: [],
    failures: [],
    dbAuth: [],
    rawUrlPasswords: [],
    authDecrypt: [],
    secretTexts: [],
    now: NOW,
    ...over,
  };
}
async function doctor(s: DoctorSnapshot): Promise<CheckResult[]> {
  return runChecks(DOCTOR_CHECKS, { snap: s, target });
}
const byId = (rs: CheckResult[], id: string) => rs.find((r) => r.id === id);
const statuses = (rs: CheckResult[]) => Object.fromEntries(rs.map((r) => [r.id, r.status]));

describe('doctor checks', () => {
  it('lists the contract ids in order and passes a healthy release', async () => {
    const rs = await doctor(
      snap({
        dbAuth: [
          {
            db: DATABASES.sso,
            secret: 'Secret sso-postgres key password',
            urlMismatch: [],
            result: { status: 'ok' },
          },
        ],
      }),
    );
    expect(rs.map((r) => r.id)).toEqual([
      'release.status',
      'pods.crashloop',
      'pods.image',
      'pods.config',
      'pods.init',
      'pods.pending',
      'pods.oom',
      'events.warnings',
      'db.auth',
      'secrets.in-configmap',
      'pods.not-ready',
      'jobs.failed',
      'db.url-password',
      'auth.secret',
    ]);
    expect(rs.every((r) => r.status === 'pass')).toBe(true);
    expect(byId(rs, 'release.status')?.detail).toBe(
      'release "taskflow" in namespace "taskflow": revision 3 deployed',
    );
  });

  it('fails release.status with npm run deploy when nothing is installed', async () => {
    const rs = await doctor(snap({ release: undefined }));
    expect(byId(rs, 'release.status')).toEqual({
      id: 'release.status',
      title: 'Helm release',
      status: 'fail',
      detail: 'release "taskflow" is not installed in namespace "taskflow"',
      hint: 'deploy it: npm run deploy',
    });
  });

  it.each([
    ['pending-upgrade', /stuck in pending-upgrade/, /helm rollback taskflow -n taskflow/],
    [
      'pending-install',
      /stuck in pending-install/,
      /helm uninstall taskflow -n taskflow \(database volumes are kept\)/,
    ],
    ['failed', /revision 3 failed: boom/, /npm run deploy again/],
  ])('fails release.status when %s', async (status, detail, hint) => {
    const r = byId(
      await doctor(snap({ release: { ...deployed, info: { status, description: 'boom' } } })),
      'release.status',
    );
    expect(r?.status).toBe('fail');
    expect(r?.detail).toMatch(detail);
    expect(r?.hint).toMatch(hint);
  });

  it('never advises a rollback while another command of the suite holds the release (its lease, checked)', async () => {
    const holder = {
      command: 'deploy',
      host: 'laptop',
      pid: 4242,
      token: 't',
      since: NOW - 40_000,
      renewed: NOW - 5_000,
      durationS: 30,
    };
    for (const status of ['pending-upgrade', 'pending-install', 'failed']) {
      const r = byId(
        await doctor(snap({ release: { ...deployed, info: { status } }, holder })),
        'release.status',
      );
      expect(r?.status).toBe('warn');
      expect(r?.detail).toContain(
        `is ${status}; npm run deploy (host laptop, pid 4242, since 2025-06-01 11:59:20 UTC, 40 s ago) holds the release and is changing it now`,
      );
      expect(r?.hint).toBe('let it finish, then run npm run doctor again');
      expect(`${r?.detail} ${r?.hint}`).not.toMatch(/rollback|uninstall/);
    }
    // Nobody holds it (checked): the interrupted run's repair, said as checked.
    const free = byId(
      await doctor(snap({ release: { ...deployed, info: { status: 'pending-upgrade' } }, holder: null })),
      'release.status',
    );
    expect(free).toMatchObject({ status: 'fail' });
    expect(free?.detail).toContain('no command of this suite holds the release (its lock checked)');
    expect(free?.hint).toBe(
      'unless a helm command run by hand is still at work on it: helm rollback taskflow -n taskflow, then npm run deploy',
    );
  });

  it('shows a crash with its previous logs; an auth failure with no login check made says what checks it, not a guess', async () => {
    const logs = 'INFO starting\nERROR password authentication failed for user "taskflow_user"\n';
    const rs = await doctor(
      snap({
        failures: diagnose(P.CRASHING_API, logs, ['BackOff: Back-off restarting failed container (x7)']),
      }),
    );
    expect(byId(rs, 'pods.crashloop')).toMatchObject({
      status: 'fail',
      detail: [
        'pod/taskflow-api-7d9f8-abcde container taskflow-api: CrashLoopBackOff: container keeps crashing (exit code 1); restarted 4 time(s)',
        '  logs (previous instance):',
        '    | INFO starting',
        '    | ERROR password authentication failed for user "taskflow_user"',
        '  events: BackOff: Back-off restarting failed container (x7)',
      ].join('\n'),
      hint: 'PostgreSQL rejects the password taskflow-api-7d9f8-abcde was given; whether the api database accepts the one in its Secret is not known (no login check was made): npm run doctor -- -n taskflow checks it (db.auth) while api-postgres-0 runs, and names the repair',
    });
  });

  it('tells to build into minikube for ErrImageNeverPull there, and to build or fix the tag for a pull error', async () => {
    const rs = await doctor(snap({ failures: [...diagnose(P.NEVER_PULLED_WEB)] }));
    expect(byId(rs, 'pods.image')?.hint).toBe(
      "taskflow/web-dashboard:abc is not in minikube's image store (pull policy Never): build it there with npm run deploy -- --build (or: minikube image build -t taskflow/web-dashboard:abc <dir>)",
    );
    const pull = await doctor(snap({ failures: diagnose(P.PULL_ERROR_MCP) }));
    // 0.1.0 is the chart's appVersion: no build ever produces it, so the hint says so.
    expect(byId(pull, 'pods.image')?.hint).toBe(
      "taskflow/mcp-server:0.1.0 carries the chart's default tag 0.1.0, which no build produces (the TaskFlow images are not published): build them into the cluster with npm run deploy -- --build (TASKFLOW_SRC set to your TaskFlow checkout), or set TASKFLOW_IMAGE_TAG to a tag you built and pushed",
    );
    const other = P.PULL_ERROR_MCP;
    const tagged = JSON.parse(
      JSON.stringify(other).replaceAll('taskflow/mcp-server:0.1.0', 'taskflow/mcp-server:v9'),
    ) as typeof other;
    expect(byId(await doctor(snap({ failures: diagnose(tagged) })), 'pods.image')?.hint).toBe(
      'taskflow/mcp-server:v9 cannot be pulled: build it into the cluster (npm run deploy -- --build), or fix TASKFLOW_IMAGE_TAG / mcp.image.repository',
    );
  });

  it('names the missing Secret key of a CreateContainerConfigError', async () => {
    const r = byId(await doctor(snap({ failures: diagnose(P.MISSING_KEY_SSO) })), 'pods.config');
    expect(r?.status).toBe('fail');
    expect(r?.hint).toBe(
      "Secret sso-platform has no key SMTP_PASS: npm run deploy recreates the release's own; npm run env-flow -- SMTP_PASS shows where it should come from",
    );
  });

  it('shows a failing migration and a stuck wait-for-db under pods.init, each with its hint', async () => {
    const failures = [
      ...diagnose(P.FAILED_MIGRATE, 'Error: relation "user" does not exist'),
      ...diagnose(P.waitingForDb('2025-06-01T11:55:00Z')),
    ];
    const r = byId(await doctor(snap({ failures })), 'pods.init');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toContain('pod/sso-platform-6f7g8-uvwxy init container migrate: CrashLoopBackOff');
    expect(r?.detail).toContain(
      '  hint: the migration failed (log lines above): fix the cause, then npm run migrate -- sso',
    );
    expect(r?.detail).toContain(
      'pod/taskflow-api-7d9f8-zzzzz init container wait-for-db: Stuck: init container wait-for-db has been running for 300s',
    );
    expect(r?.detail).toContain(
      '  hint: the api database is not reachable yet: check api-postgres-0 (kubectl get pod -n taskflow)',
    );
  });

  it('does not call a freshly started init container stuck', () => {
    expect(stuckInit(P.waitingForDb('2025-06-01T11:59:30Z'), NOW)).toEqual([]);
  });

  it('reports an unschedulable pod and a Pending volume with its storage class', async () => {
    const pvc: KubeObject = {
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-sso-postgres-0' },
      spec: { storageClassName: 'fast' },
      status: { phase: 'Pending' },
    };
    const events = [
      {
        type: 'Warning',
        involvedObject: { kind: 'PersistentVolumeClaim', name: 'data-sso-postgres-0' },
        reason: 'ProvisioningFailed',
        message: 'storageclass.storage.k8s.io "fast" not found',
        lastTimestamp: '2025-06-01T11:58:00Z',
      },
    ];
    const rs = await doctor(snap({ objects: [pvc], events, failures: diagnose(P.UNSCHEDULABLE_DB) }));
    const r = byId(rs, 'pods.pending');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toContain(
      'pvc/data-sso-postgres-0 is Pending (storage class "fast")\n  events: ProvisioningFailed: storageclass.storage.k8s.io "fast" not found',
    );
    expect(r?.detail).toContain('kubectl delete pvc data-sso-postgres-0 -n taskflow, then npm run deploy');
    expect(byId(rs, 'events.warnings')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('PersistentVolumeClaim/data-sso-postgres-0: ProvisioningFailed'),
    });
  });

  it('reports an OOMKilled container with the memory hint', async () => {
    const r = byId(await doctor(snap({ failures: diagnose(P.OOM_MCP) })), 'pods.oom');
    expect(r).toMatchObject({
      status: 'fail',
      hint: 'raise the memory limit in a values file passed with -f (mcp.resources.limits.memory), then npm run deploy',
    });
  });

  it('ignores old events and events of other objects', async () => {
    const events = [
      {
        type: 'Warning',
        involvedObject: { kind: 'Pod', name: 'other-app-1' },
        reason: 'BackOff',
        message: 'x',
        lastTimestamp: '2025-06-01T11:59:00Z',
      },
      {
        type: 'Warning',
        involvedObject: { kind: 'Pod', name: 'sso-postgres-0' },
        reason: 'BackOff',
        message: 'x',
        lastTimestamp: '2025-06-01T09:00:00Z',
      },
    ];
    const rs = await doctor(snap({ objects: [P.RUNNING_DB('sso-postgres-0')], events }));
    expect(byId(rs, 'events.warnings')?.status).toBe('pass');
  });

  it('fails db.auth when a database rejects its Secret, and when an app URL carries another password', async () => {
    const rs = await doctor(
      snap({
        dbAuth: [
          {
            db: DATABASES.sso,
            secret: 'Secret sso-postgres key password',
            urlMismatch: [],
            result: { status: 'rejected', detail: 'password authentication failed for user "sso_user"' },
          },
          {
            db: DATABASES.api,
            secret: 'Secret api-postgres key password',
            urlMismatch: ['taskflow-api'],
            result: { status: 'ok' },
          },
        ],
      }),
    );
    const r = byId(rs, 'db.auth');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toBe(
      'sso: sso-postgres-0 rejects the password in Secret sso-postgres key password (password authentication failed for user "sso_user"): the volume was initialised with another one\n' +
        'api: the DATABASE_URL of taskflow-api carries another password than Secret api-postgres key password',
    );
    expect(r?.hint).toBe('make them agree: npm run reset-db-password -- sso');
  });

  it('skips db.auth when no database runs', async () => {
    const rs = await doctor(
      snap({
        dbAuth: [
          {
            db: DATABASES.sso,
            secret: 'Secret sso-postgres',
            urlMismatch: [],
            skipped: 'sso-postgres-0 is not running',
          },
        ],
      }),
    );
    expect(byId(rs, 'db.auth')).toMatchObject({
      status: 'skip',
      detail: 'sso: not checked: sso-postgres-0 is not running',
    });
  });

  it('fails secrets.in-configmap for a secret value in a ConfigMap, without showing it', async () => {
    const cm: KubeObject & { data: Record<string, string> } = {
      kind: 'ConfigMap',
      metadata: { name: 'taskflow-api' },
      data: { LEGACY: 'x-0123456789-secret-text' },
    };
    const rs = await doctor(snap({ objects: [cm], secretTexts: ['x-0123456789-secret-text'] }));
    expect(byId(rs, 'secrets.in-configmap')).toMatchObject({
      status: 'fail',
      detail: 'ConfigMap taskflow-api key LEGACY holds the value of a secret',
    });
    expect(JSON.stringify(rs)).not.toContain('x-0123456789-secret-text');
    expect(statuses(rs)['pods.crashloop']).toBe('pass');
  });

  describe('pods.not-ready: running, never ready', () => {
    const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
    const unhealthy = (count: number): KubeEvent => ({
      type: 'Warning',
      involvedObject: { kind: 'Pod', name: 'web-dashboard-5c6d7-unrdy' },
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      count,
    });
    const judge = (pod: Pod, events: KubeEvent[] = [], logs = '') =>
      doctor(
        snap({
          events,
          failures: notReady([pod], events, NOW, new Set()).map((f) => ({
            ...f,
            logs,
            events: [],
            minikube: false,
          })),
        }),
      );

    it('fails with the logs and a probe hint once the start-up time is over', async () => {
      const rs = await judge(P.unreadyWeb(at(NOT_READY_MS + 60_000)), [], 'GET /api/health 503\n');
      expect(byId(rs, 'pods.not-ready')).toMatchObject({
        status: 'fail',
        detail:
          'pod/web-dashboard-5c6d7-unrdy container web-dashboard: NotReady: running for 180s but not ready: it gets no traffic\n  logs:\n    | GET /api/health 503',
        hint: 'its readiness probe keeps failing: read the log lines above; kubectl describe pod web-dashboard-5c6d7-unrdy -n taskflow shows the probe and its last answers',
      });
      expect(statuses(rs)['pods.crashloop']).toBe('pass');
    });

    it('fails sooner when its readiness probe has failed again and again', async () => {
      const rs = await judge(P.unreadyWeb(at(20_000)), [unhealthy(4)]);
      expect(byId(rs, 'pods.not-ready')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('running for 20s but not ready (4 failed readiness probes)'),
      });
    });

    it('passes a container still starting, and leaves pods failing otherwise to their own check', async () => {
      expect(byId(await judge(P.unreadyWeb(at(20_000)), [unhealthy(1)]), 'pods.not-ready')?.status).toBe(
        'pass',
      );
      const old = P.unreadyWeb(at(NOT_READY_MS * 2));
      expect(notReady([old], [], NOW, new Set([old.metadata.name]))).toEqual([]);
    });
  });

  describe('jobs.failed: the latest migration run', () => {
    const failed = P.migrationRun(
      'sso-migrate-manual-20250601-110000-aaaa',
      '2025-06-01T11:00:00Z',
      'failed',
    );
    const later = P.migrationRun(
      'sso-migrate-manual-20250601-113000-bbbb',
      '2025-06-01T11:30:00Z',
      'complete',
    );
    const judge = (runs: { job: KubeObject; pod: Pod }[], logs = '') =>
      doctor(
        snap({
          objects: runs.flatMap((r) => [r.job, r.pod]),
          failures: failedJobs(
            runs.map((r) => r.job),
            runs.map((r) => r.pod),
          ).map((f) => ({ ...f, logs, events: [], minikube: false })),
        }),
      );

    it("fails with the job's pod logs and npm run migrate for its database", async () => {
      const rs = await judge([failed], 'relation "user" already exists\n');
      expect(byId(rs, 'jobs.failed')).toMatchObject({
        status: 'fail',
        detail:
          'job/sso-migrate-manual-20250601-110000-aaaa container migrate: BackoffLimitExceeded: Job has reached the specified backoff limit\n  logs:\n    | relation "user" already exists',
        hint: 'the migration failed (log lines above): fix the cause, then npm run migrate -- sso',
      });
    });

    it('passes when a later run of the same migration succeeded', async () => {
      expect(byId(await judge([later, failed]), 'jobs.failed')?.status).toBe('pass');
      expect(byId(await judge([failed, later]), 'jobs.failed')?.status).toBe('pass');
    });
  });

  it('knows the nodes of a minikube cluster, multi-node ones included', () => {
    expect(['minikube', 'minikube-m02', 'minikube-m10'].map(isMinikubeNode)).toEqual([true, true, true]);
    expect(['kind-control-plane', 'minikube2', 'node-minikube', undefined].map(isMinikubeNode)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('doctor without noise or contradictions', () => {
  const readyPod = (name: string, readySince: string): KubeObject =>
    ({
      kind: 'Pod',
      metadata: { name, labels: { 'app.kubernetes.io/instance': 'taskflow' } },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }],
      },
    }) as KubeObject;
  const event = (kind: string, name: string, reason: string, at: string): KubeEvent => ({
    type: 'Warning',
    involvedObject: { kind, name },
    reason,
    message: `${reason} message`,
    lastTimestamp: at,
  });

  it('a first install: scheduling warnings from before the volumes bound are answered by the Ready pod', async () => {
    const pod = readyPod('sso-postgres-0', '2025-06-01T11:59:00Z');
    const pvc = {
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-sso-postgres-0' },
      status: { phase: 'Bound' },
    } as KubeObject;
    const events = [
      event('Pod', 'sso-postgres-0', 'FailedScheduling', '2025-06-01T11:58:00Z'),
      event('PersistentVolumeClaim', 'data-sso-postgres-0', 'ProvisioningFailed', '2025-06-01T11:58:00Z'),
    ];
    const r = byId(await doctor(snap({ objects: [pod, pvc], events })), 'events.warnings');
    expect(r).toMatchObject({ status: 'pass' });
    expect(r?.detail).toBe(
      'no current Warning event for the release in the last hour (2 earlier ones about objects that have recovered since, e.g. scheduling before the volumes bound)',
    );
  });

  it('a warning newer than the recovery still counts (a pod Ready between crashes)', async () => {
    const pod = readyPod('sso-postgres-0', '2025-06-01T11:59:00Z');
    const events = [
      event('Pod', 'sso-postgres-0', 'FailedScheduling', '2025-06-01T11:58:00Z'),
      event('Pod', 'sso-postgres-0', 'BackOff', '2025-06-01T11:59:30Z'),
    ];
    const r = byId(await doctor(snap({ objects: [pod], events })), 'events.warnings');
    expect(r?.status).toBe('warn');
    expect(r?.detail).toMatch(
      /^1 in the last hour \(newest first\) \(1 earlier one .*\):\nPod\/sso-postgres-0: BackOff/,
    );
  });

  it('no release and nothing of it: release.status fails, the rest skip (nothing to look at)', async () => {
    const rs = withNothingToCheck(
      await doctor(snap({ release: undefined })),
      snap({ release: undefined }),
      target,
    );
    expect(statuses(rs)['release.status']).toBe('fail');
    expect(rs.filter((r) => r.id !== 'release.status').every((r) => r.status === 'skip')).toBe(true);
    expect(byId(rs, 'pods.crashloop')?.detail).toBe(
      'nothing to look at: release "taskflow" is not installed in namespace "taskflow"',
    );
    // with a release, nothing changes
    const healthy = await doctor(snap());
    expect(withNothingToCheck(healthy, snap(), target)).toBe(healthy);
  });

  it('a rejected password in the logs while db.auth passes: restart the pod, not reset the database', async () => {
    const logs = 'FATAL:  password authentication failed for user "taskflow_user"';
    const failures = diagnose(P.CRASHING_API, logs);
    const ok = {
      db: DATABASES.api,
      secret: 'Secret api-postgres key password',
      urlMismatch: [],
      result: { status: 'ok' as const },
    };
    const rs = await doctor(snap({ failures, dbAuth: [ok] }));
    expect(byId(rs, 'db.auth')?.status).toBe('pass');
    expect(byId(rs, 'pods.crashloop')?.hint).toBe(
      'the api database accepts the password in its Secret (login checked), so this pod started with an older one: kubectl rollout restart deployment/taskflow-api -n taskflow',
    );
    // when the database does reject it, resetting is the step
    const rejected = {
      ...ok,
      result: { status: 'rejected' as const, detail: 'password authentication failed' },
    };
    const again = await doctor(snap({ failures, dbAuth: [rejected] }));
    expect(byId(again, 'pods.crashloop')?.hint).toBe(
      'the api database rejects the password in its Secret too (login checked): make them agree: npm run reset-db-password -- api',
    );
  });
});

describe('db.url-password: a Secret’s password that a URL takes unencoded', () => {
  const secret = (name: string, data: Record<string, string>): KubeObject =>
    ({
      kind: 'Secret',
      metadata: { name },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    }) as KubeObject;
  /** A Deployment as an older chart rendered it: $(PGPASSWORD) inside the URL. */
  const deployment = (name: string, url: string): KubeObject =>
    ({
      kind: 'Deployment',
      metadata: { name },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name,
                env: [
                  { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: 'theirs', key: 'pw' } } },
                  { name: 'DATABASE_URL', value: url },
                ],
              },
            ],
          },
        },
      },
    }) as KubeObject;
  const inCluster = 'postgresql://sso_user:$(PGPASSWORD)@sso-postgres:5432/sso_db?sslmode=disable';
  const neon = 'postgresql://sso_user:$(PGPASSWORD)@ep-a.neon.tech:5432/sso_db?sslmode=require';

  it('finds the URL, names the Secret, the key and the characters, never the value', async () => {
    const all = [deployment('sso-platform', inCluster), secret('theirs', { pw: 'xK+3/zA9=mQ2pL1w' })];
    expect(rawUrlPasswords(all)).toEqual([
      {
        where: 'Deployment/sso-platform container sso-platform',
        variable: 'DATABASE_URL',
        secret: 'theirs',
        key: 'pw',
        chars: ['+', '/', '='],
        neon: false,
      },
    ]);
    const r = byId(await doctor(snap({ rawUrlPasswords: rawUrlPasswords(all) })), 'db.url-password');
    expect(r).toMatchObject({ status: 'fail' });
    expect(r?.detail).toContain(
      'holds the password of Secret theirs key pw as it is ($(PGPASSWORD)), and it has "+", "/", "="',
    );
    expect(r?.detail).not.toContain('xK+3/zA9=mQ2pL1w');
    expect(r?.hint).toContain('an older chart rendered these URLs');
    expect(r?.hint).toContain('npm run deploy');
  });

  it('on Neon the repair is a URL-safe password; a safe one, or a URL without the password, passes', async () => {
    const onNeon = rawUrlPasswords([deployment('sso-platform', neon), secret('theirs', { pw: 'a b' })]);
    const r = byId(await doctor(snap({ rawUrlPasswords: onNeon })), 'db.url-password');
    expect(r?.hint).toContain('give the role a password of letters, digits and - . _ ~ only');
    expect(
      rawUrlPasswords([deployment('sso-platform', neon), secret('theirs', { pw: 'npg_Safe-1.2~3' })]),
    ).toEqual([]);
    const current = 'postgresql://sso_user@sso-postgres:5432/sso_db?sslmode=disable';
    expect(rawUrlPasswords([deployment('sso-platform', current), secret('theirs', { pw: 'a/b' })])).toEqual(
      [],
    );
    expect(byId(await doctor(snap()), 'db.url-password')).toMatchObject({ status: 'pass' });
  });
});

describe('auth.secret: the SSO logs a signing key it cannot decrypt', () => {
  it('counts Better Auth’s message in a log', () => {
    const log = [
      'GET /api/auth/get-session 500',
      '# SERVER_ERROR:  [BetterAuthError: Failed to decrypt private key. Make sure the secret currently in use is the same as the one used to encrypt the private key.]',
      'ok',
      'BetterAuthError: Failed to decrypt private key.',
    ].join('\n');
    expect(decryptFailureCount(log)).toBe(2);
    expect(decryptFailureCount('GET /api/health 200')).toBe(0);
  });

  it('names the cause and the repair; passes without such lines', async () => {
    const r = byId(
      await doctor(snap({ authDecrypt: [{ pod: 'sso-platform-7d9f8-abcde', count: 3 }] })),
      'auth.secret',
    );
    expect(r).toMatchObject({ status: 'fail' });
    expect(r?.detail).toContain(
      'pod/sso-platform-7d9f8-abcde logged "Failed to decrypt private key" 3 times',
    );
    expect(r?.detail).toContain('encrypted with another BETTER_AUTH_SECRET than the one it runs with');
    expect(r?.hint).toContain('npm run reset-auth-secret -- --rotate');
    expect(byId(await doctor(snap()), 'auth.secret')).toMatchObject({ status: 'pass' });
  });
});

describe('auth.secret: the secret the SSO runs with against its signing key in use', () => {
  it('fails when the key does not decrypt with it, even before the SSO logs anything; passes when it does', async () => {
    const r = byId(await doctor(snap({ authKey: { count: 2, opens: false } })), 'auth.secret');
    expect(r).toMatchObject({ status: 'fail' });
    expect(r?.detail).toContain(
      'the signing key the SSO signs with (the newest of 2 in the SSO database) does not decrypt with the BETTER_AUTH_SECRET its Deployment gives it',
    );
    expect(r?.hint).toContain('deploy the secret the keys were made under');
    expect(r?.hint).toContain('npm run reset-auth-secret -- --rotate');
    expect(byId(await doctor(snap({ authKey: { count: 1, opens: true } })), 'auth.secret')).toMatchObject({
      status: 'pass',
      detail:
        'the BETTER_AUTH_SECRET the SSO runs with decrypts its signing key, and no SSO pod logs a decrypt failure',
    });
  });
});
