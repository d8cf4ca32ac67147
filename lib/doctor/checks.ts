import { type Check, type CheckOutcome, fail, pass, skip, warn, worst } from '../checks.ts';
import { secretsInConfigMaps } from '../config-scan.ts';
import type { HelmTarget } from '../helm.ts';
import type { KubeObject } from '../kubectl.ts';
import { type KubeEvent, eventTime, warningsByObject } from '../events.ts';
import type { Diagnosed, DoctorSnapshot } from './collect.ts';
import { failureHint } from './hints.ts';
import { describeChars } from '../existing-secrets.ts';
import { notInstalled } from '../helm.ts';
import type { DoctorFailureId } from './workloads.ts';
import { namespaceArgs, npmRun } from '../suggest.ts';
import { type LoginFact, loginFact } from '../failure-hints.ts';
import { describeHolder } from '../release-lock.ts';

/** What the doctor checks judge: one snapshot of the release and its target. */
export interface DoctorContext {
  snap: DoctorSnapshot;
  target: HelmTarget;
}

const releaseStatus: Check<DoctorContext> = {
  id: 'release.status',
  title: 'Helm release',
  run: ({ snap, target }) => {
    const r = snap.release;
    const at = `release "${target.release}" in namespace "${target.namespace}"`;
    if (!r)
      return fail(notInstalled(target), `deploy it: ${npmRun('deploy', ...namespaceArgs(target.namespace))}`);
    const st = r.info.status;
    const desc = r.info.description ? `: ${r.info.description}` : '';
    if (st === 'deployed')
      return pass(
        `${at}: revision ${r.version} deployed${r.info.last_deployed ? ` (${r.info.last_deployed})` : ''}`,
      );
    const deploy = npmRun('deploy', ...namespaceArgs(target.namespace));
    // Another command of the suite holds the release (its lease, checked): it is changing it now, so
    // no rollback or uninstall is advised.
    const holder = snap.holder;
    if (holder && (st === 'failed' || st.startsWith('pending-'))) {
      return warn(
        `${at}: revision ${r.version} is ${st}${desc}; ${describeHolder(holder, snap.now)} holds the release and is changing it now`,
        `let it finish, then run ${npmRun('doctor', ...namespaceArgs(target.namespace))} again`,
      );
    }
    const nobody = holder === null ? '; no command of this suite holds the release (its lock checked)' : '';
    if (st === 'failed') {
      return fail(
        `${at}: revision ${r.version} failed${desc}`,
        `the checks below say why; fix it and run ${deploy} again (or: helm rollback ${target.release} -n ${target.namespace})`,
      );
    }
    if (st.startsWith('pending-')) {
      const way =
        st === 'pending-install'
          ? `helm uninstall ${target.release} -n ${target.namespace} (database volumes are kept)`
          : `helm rollback ${target.release} -n ${target.namespace}`;
      return fail(
        `${at}: stuck in ${st} (revision ${r.version})${desc}${nobody}`,
        holder === null
          ? `unless a helm command run by hand is still at work on it: ${way}, then ${deploy}`
          : `if no deploy is running any more: ${way}, then ${deploy}`,
      );
    }
    return warn(`${at}: revision ${r.version} is ${st}${desc}`);
  },
};

const indent = (text: string, prefix: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');

/** One failure as detail lines: what, its logs, its events. */
function describe(f: Diagnosed): string {
  const lines = [
    `${f.object}${f.container ? ` ${f.init ? 'init container' : 'container'} ${f.container}` : ''}: ${f.reason}: ${f.message}`,
  ];
  if (f.logs.trim() !== '')
    lines.push(`  logs${f.previousLogs ? ' (previous instance)' : ''}:`, indent(f.logs, '    | '));
  if (f.events.length > 0) lines.push(`  events: ${f.events.join('; ')}`);
  return lines.join('\n');
}

const PASS_TEXT: Record<DoctorFailureId, string> = {
  'pods.crashloop': 'no container in CrashLoopBackOff',
  'pods.image': 'every image was pulled',
  'pods.config': 'every container found its Secret and ConfigMap keys',
  'pods.init': 'no init container failing or stuck',
  'pods.pending': 'every pod scheduled and every volume bound',
  'pods.oom': 'no container OOMKilled',
  'pods.not-ready': 'every running container is ready (or still within its start-up time)',
  'jobs.failed': 'no migration Job whose latest run failed',
};

function podCheck(
  id: DoctorFailureId,
  title: string,
  extra?: (ctx: DoctorContext) => CheckOutcome[],
): Check<DoctorContext> {
  return {
    id,
    title,
    run: (ctx) => {
      const mine = ctx.snap.failures.filter((f) => f.id === id);
      const outcomes = [
        ...mine.map((f) => fail(describe(f), failureHint(f, ctx.target, loginFacts(ctx.snap)))),
        ...(extra?.(ctx) ?? []),
      ];
      // Several failures: each keeps its own hint in the detail (the check has room for one).
      const each =
        outcomes.length > 1
          ? outcomes.map((o) => ({ ...o, detail: `${o.detail}\n  hint: ${o.hint ?? ''}` }))
          : outcomes;
      return worst(each, pass(PASS_TEXT[id]));
    },
  };
}

/** PVCs of the release that are not bound, with their events. */
function pendingVolumes(ctx: DoctorContext): CheckOutcome[] {
  const events = warningsByObject(ctx.snap.events);
  return ctx.snap.objects
    .filter(
      (o) =>
        o.kind === 'PersistentVolumeClaim' &&
        (o.status as { phase?: string } | undefined)?.phase === 'Pending',
    )
    .map((pvc) => {
      const cls = (pvc.spec as { storageClassName?: string } | undefined)?.storageClassName;
      const ev = (events.get(pvc.metadata.name) ?? []).slice(-3);
      const detail = `pvc/${pvc.metadata.name} is Pending (storage class ${cls ? `"${cls}"` : 'default'})${ev.length > 0 ? `\n  events: ${ev.join('; ')}` : ''}`;
      return fail(
        detail,
        `check the class exists (kubectl get storageclass) and set TASKFLOW_STORAGE_CLASS to one that does; the Pending PVC holds no data: kubectl delete pvc ${pvc.metadata.name} -n ${ctx.target.namespace}, then npm run deploy`,
      );
    });
}

/** Names of the release's objects, and of the ReplicaSets between its Deployments and pods. */
function releaseNames(objects: KubeObject[]): Set<string> {
  const names = new Set(objects.map((o) => o.metadata.name));
  for (const o of objects) for (const r of o.metadata.ownerReferences ?? []) names.add(r.name);
  return names;
}

const EVENT_WINDOW_MS = 60 * 60 * 1000;

const eventsWarnings: Check<DoctorContext> = {
  id: 'events.warnings',
  title: 'Warning events',
  run: ({ snap, target }) => {
    const names = releaseNames(snap.objects);
    const inWindow = snap.events.filter((e) => {
      const t = eventTime(e);
      return names.has(e.involvedObject?.name ?? '') && (t === 0 || snap.now - t <= EVENT_WINDOW_MS);
    });
    const recent = inWindow.filter((e) => !superseded(e, snap.objects));
    const answered = inWindow.length - recent.length;
    const since =
      answered > 0
        ? ` (${answered} earlier one${answered === 1 ? '' : 's'} about objects that have recovered since, e.g. scheduling before the volumes bound)`
        : '';
    if (recent.length === 0) return pass(`no current Warning event for the release in the last hour${since}`);
    const lines = [...recent]
      .sort((a, b) => eventTime(b) - eventTime(a))
      .slice(0, 10)
      .map((e) => {
        const n = e.series?.count ?? e.count ?? 1;
        return `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}: ${e.reason ?? 'Warning'}: ${(e.message ?? '').trim()}${n > 1 ? ` (x${n})` : ''}`;
      });
    const more = recent.length > 10 ? [`… ${recent.length - 10} more`] : [];
    return warn(
      [`${recent.length} in the last hour (newest first)${since}:`, ...lines, ...more].join('\n'),
      `kubectl get events -n ${target.namespace} --field-selector type=Warning`,
    );
  },
};

/** What each database's login check with the password of its Secret found (db.auth's own facts). */
function loginFacts(snap: DoctorSnapshot): LoginFact[] {
  return snap.dbAuth.map((a) => loginFact(a.db.db, a.result, a.skipped));
}

interface Condition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
}

/**
 * A Warning event the object's current state has answered: the pod became Ready after it (a
 * FailedScheduling while its volumes were binding, a BackOff before the database came up), the claim is
 * Bound, the Deployment became Available after it, the StatefulSet is ready, the Job succeeded. An
 * event newer than the recovery (a pod that is Ready between crashes) still counts.
 */
export function superseded(e: KubeEvent, objects: readonly KubeObject[]): boolean {
  const o = objects.find(
    (x) => x.kind === e.involvedObject?.kind && x.metadata.name === e.involvedObject?.name,
  );
  if (!o) return false;
  const t = eventTime(e);
  const status = (o as { status?: Record<string, unknown> }).status ?? {};
  const spec = (o as { spec?: Record<string, unknown> }).spec ?? {};
  const conditions = (status.conditions as Condition[] | undefined) ?? [];
  const after = (type: string) => {
    const c = conditions.find((x) => x.type === type && x.status === 'True');
    if (!c) return false;
    const at = Date.parse(c.lastTransitionTime ?? '');
    return !at || !t || t <= at;
  };
  switch (o.kind) {
    case 'Pod':
      return after('Ready');
    case 'PersistentVolumeClaim':
      return status.phase === 'Bound';
    case 'Deployment':
      return after('Available') && Number(status.readyReplicas ?? 0) >= Number(spec.replicas ?? 1);
    case 'StatefulSet':
      return Number(status.readyReplicas ?? 0) >= Number(spec.replicas ?? 1);
    case 'Job':
      return Number(status.succeeded ?? 0) >= 1;
    default:
      return false;
  }
}

const dbAuth: Check<DoctorContext> = {
  id: 'db.auth',
  title: 'Database logins',
  run: ({ snap }) => {
    if (snap.dbAuth.length === 0) return skip('no in-cluster database in the release');
    const out: CheckOutcome[] = [];
    for (const a of snap.dbAuth) {
      const reset = npmRun('reset-db-password', a.db.db);
      if (a.result?.status === 'ok')
        out.push(pass(`${a.db.db}: ${a.db.pod} accepts the password in ${a.secret}`));
      else if (a.result?.status === 'rejected') {
        out.push(
          fail(
            `${a.db.db}: ${a.db.pod} rejects the password in ${a.secret} (${a.result.detail}): the volume was initialised with another one`,
            `make them agree: ${reset}`,
          ),
        );
      } else if (a.result?.status === 'unreachable')
        out.push(
          warn(
            `${a.db.db}: login check failed: ${a.result.detail}`,
            `check the pod: kubectl logs ${a.db.pod}`,
          ),
        );
      else out.push(skip(`${a.db.db}: not checked: ${a.skipped ?? ''}`));
      for (const app of a.urlMismatch) {
        out.push(
          fail(
            `${a.db.db}: the DATABASE_URL of ${app} carries another password than ${a.secret}`,
            `redeploy to rebuild it (npm run deploy), or ${reset}`,
          ),
        );
      }
    }
    return worst(out, skip('nothing to check'));
  },
};

const authSecret: Check<DoctorContext> = {
  id: 'auth.secret',
  title: 'SSO signing keys',
  run: ({ snap, target }) => {
    const found = snap.authDecrypt;
    const key = snap.authKey;
    if (found.length === 0 && key?.opens !== false)
      return pass(
        key
          ? 'the BETTER_AUTH_SECRET the SSO runs with decrypts its signing key, and no SSO pod logs a decrypt failure'
          : 'no SSO pod logs a signing key it cannot decrypt',
      );
    const seen = [
      ...(key?.opens === false
        ? [
            `the signing key the SSO signs with (the newest of ${key.count} in the SSO database) does not decrypt with the BETTER_AUTH_SECRET its Deployment gives it`,
          ]
        : []),
      ...found.map(
        (f) =>
          `pod/${f.pod} logged "Failed to decrypt private key" ${f.count} time${f.count === 1 ? '' : 's'}`,
      ),
    ];
    return fail(
      `${seen.join('; ')}: ` +
        'the signing keys in the SSO database were encrypted with another BETTER_AUTH_SECRET than the one it runs with (an edited env file, a second machine, a restored backup of another environment, a helm upgrade by hand); sign-in and tokens answer 500 while the pod stays Ready',
      `deploy the secret the keys were made under (BETTER_AUTH_SECRET in the env file, then ${npmRun('deploy', ...namespaceArgs(target.namespace))}), or make new keys under the running one: ${npmRun('reset-auth-secret', '--rotate', ...namespaceArgs(target.namespace))} (backs up first; users stay, everyone signs in again)`,
    );
  },
};

const dbUrlPassword: Check<DoctorContext> = {
  id: 'db.url-password',
  title: 'Passwords in connection URLs',
  run: ({ snap, target }) => {
    const found = snap.rawUrlPasswords;
    if (found.length === 0)
      return pass('no connection URL takes a password it cannot carry ($(PGPASSWORD) expands unencoded)');
    const lines = found.map(
      (f) =>
        `${f.where}: ${f.variable} holds the password of Secret ${f.secret} key ${f.key} as it is ($(PGPASSWORD)), and it has ${describeChars(f.chars)}: the URL does not parse (TypeError: Invalid URL) or logs in with a wrong password`,
    );
    const neon = found.some((f) => f.neon);
    return fail(
      lines.join('\n'),
      neon
        ? `the SSO on Neon's HTTP driver reads the password from its URL: give the role a password of letters, digits and - . _ ~ only (e.g. openssl rand -hex 16), put it in Secret ${found.find((f) => f.neon)!.secret}, then ${npmRun('deploy', ...namespaceArgs(target.namespace))}`
        : `an older chart rendered these URLs; this one leaves the password out (the drivers read PGPASSWORD): ${npmRun('deploy', ...namespaceArgs(target.namespace))} with the same -f values`,
    );
  },
};

const secretsInConfigmap: Check<DoctorContext> = {
  id: 'secrets.in-configmap',
  title: 'No secrets in ConfigMaps',
  run: ({ snap }) => {
    const cms = snap.objects.filter((o) => o.kind === 'ConfigMap');
    const found = secretsInConfigMaps(cms, snap.secretTexts);
    if (found.length === 0) return pass(`${cms.length} ConfigMap(s), no secret-looking value`);
    return fail(
      found.map((f) => `${f.object} key ${f.key} ${f.why}`).join('\n'),
      'move it into a Secret (a values override or an old chart put it there); npm run validate checks the render',
    );
  },
};

/** Every doctor check: those of the CLI contract in its order, then the ones added since. */
export const DOCTOR_CHECKS: readonly Check<DoctorContext>[] = [
  releaseStatus,
  podCheck('pods.crashloop', 'Crashing containers'),
  podCheck('pods.image', 'Images'),
  podCheck('pods.config', 'Container configuration'),
  podCheck('pods.init', 'Init containers'),
  podCheck('pods.pending', 'Scheduling and volumes', pendingVolumes),
  podCheck('pods.oom', 'Memory'),
  eventsWarnings,
  dbAuth,
  secretsInConfigmap,
  podCheck('pods.not-ready', 'Readiness'),
  podCheck('jobs.failed', 'Migration Jobs'),
  dbUrlPassword,
  authSecret,
];
