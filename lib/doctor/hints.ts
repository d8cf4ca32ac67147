import { ADDON_CATALOG } from '../addon-catalog.ts';
import { APPS, DATABASES } from '../components.ts';
import { type LoginFact, crashHint, databaseOf, logsHint } from '../failure-hints.ts';
import { MIGRATION_CRONJOBS } from '../jobs.ts';
import type { HelmTarget } from '../helm.ts';
import type { Diagnosed } from './collect.ts';
import { defaultTagProblem } from '../images.ts';
import { migrateTargetOf } from './workloads.ts';
import { npmRun } from '../suggest.ts';

/** What a CreateContainerConfigError message says is missing, in plain words. */
export function missingReference(message: string): string | undefined {
  const key = /couldn't find key (\S+) in (Secret|ConfigMap) (?:[^/\s]+\/)?([^\s"]+)/i.exec(message);
  if (key) return `${key[2]} ${key[3]} has no key ${key[1]}`;
  const obj = /(secret|configmap) "([^"]+)" not found/i.exec(message);
  if (obj) return `${obj[1]?.toLowerCase() === 'secret' ? 'Secret' : 'ConfigMap'} ${obj[2]} does not exist`;
  return undefined;
}

/**
 * The next step for one failure, specific to its reason (and to its logs: a rejected password is
 * answered from the databases' login checks, `logins`, through the hint deploy gives too).
 */
export function failureHint(f: Diagnosed, target: HelmTarget, logins: readonly LoginFact[] = []): string {
  const ns = target.namespace;
  const db = databaseOf(f.pod, f.logs);
  const seen = { pod: f.pod, container: f.container, logs: f.logs, namespace: ns };
  const byLogs = logsHint(seen, logins);
  if (byLogs) return byLogs;
  switch (f.id) {
    case 'pods.image':
      return imageHint(f);
    case 'pods.config': {
      const key = /has no key (\S+)/.exec(missingReference(f.message) ?? '')?.[1];
      return `${missingReference(f.message) ?? 'a Secret or ConfigMap the pod needs is missing'}: npm run deploy recreates the release's own${key ? `; ${npmRun('env-flow', key)} shows where it should come from` : ''}`;
    }
    case 'pods.init':
      if (f.container === 'wait-for-db') {
        const pod = db ? DATABASES[db].pod : 'the database pod';
        return `the ${db ? `${db} ` : ''}database is not reachable yet: check ${pod} (kubectl get pod -n ${ns})`;
      }
      return `the migration failed (log lines above): fix the cause, then ${npmRun('migrate', db ?? 'sso')}`;
    case 'pods.oom':
      return `raise the memory limit in a values file passed with -f (${componentValue(f.pod)}.resources.limits.memory), then npm run deploy`;
    case 'pods.pending':
      return `no node can run it: kubectl describe pod ${f.pod} -n ${ns} shows why (resources, node selectors, volumes)`;
    case 'pods.crashloop':
      return crashHint(seen, logins);
    case 'pods.not-ready':
      return `its readiness probe keeps failing: read the log lines above; kubectl describe pod ${f.pod} -n ${ns} shows the probe and its last answers`;
    case 'jobs.failed': {
      const job = f.object.replace(/^job\//, '');
      const logs = f.pod ? '(log lines above)' : `(kubectl logs job/${job} -n ${ns})`;
      return `the migration failed ${logs}: fix the cause, then ${npmRun('migrate', migrateTargetOf(job) ?? db ?? '<sso|api>')}`;
    }
  }
  return `kubectl describe pod ${f.pod} -n ${ns}`;
}

function imageHint(f: Diagnosed): string {
  const image = f.image ?? 'the image';
  const unbuilt = f.image === undefined ? undefined : defaultTagProblem(f.image);
  if (unbuilt && f.reason !== 'InvalidImageName') return unbuilt;
  if (f.reason === 'ErrImageNeverPull') {
    return f.minikube
      ? `${image} is not in minikube's image store (pull policy Never): build it there with ${npmRun('deploy', '--build')} (or: minikube image build -t ${image} <dir>)`
      : `${image} is not in the node's image store (pull policy Never): load it (kind load docker-image ${image}, minikube image load ${image}) or ${npmRun('deploy', '--build')}`;
  }
  if (f.reason === 'InvalidImageName') {
    return `${image} is not a valid image reference: fix ${componentValue(f.pod)}.image.repository/tag or TASKFLOW_IMAGE_TAG`;
  }
  return `${image} cannot be pulled: build it into the cluster (${npmRun('deploy', '--build')}), or fix TASKFLOW_IMAGE_TAG / ${componentValue(f.pod)}.image.repository`;
}

/** The chart values key of the component a pod belongs to (by its name). */
function componentValue(pod: string): string {
  const prefixes: [string, string][] = [
    ...APPS.map((a): [string, string] => [a.name, a.component]),
    ...Object.entries(MIGRATION_CRONJOBS).map(([db, cron]): [string, string] => [cron, `${db}.migrations`]),
    ...ADDON_CATALOG.map((a): [string, string] => [a.deployment, a.valuesKey]),
    ...Object.values(DATABASES).map((d): [string, string] => [d.statefulSet, d.valuesKey]),
  ];
  return prefixes.find(([p]) => pod.startsWith(p))?.[1] ?? '<component>';
}
