// Deployment controller: one ReplicaSet per pod template (pod-template-hash, revision
// annotations for rollout history and undo), rolling replacement of old ReplicaSets once the
// new one is available, and the status fields and conditions rollout waiters read
// (Progressing/NewReplicaSetAvailable, Available, ProgressDeadlineExceeded).
import type { Cluster } from '../cluster.ts';
import { typeByKind } from '../resources.ts';
import type { StoreEvent } from '../store.ts';
import {
  clone,
  controllerOf,
  controllerRef,
  getPath,
  makeObject,
  type JsonObject,
  type KObject,
} from '../types.ts';
import { WorkQueue } from './queue.ts';
import { keyOf, ownedBy, sameJson, setCondition, splitKey, templateHash, type Condition } from './util.ts';

const DEPLOY = typeByKind('Deployment');
const RS = typeByKind('ReplicaSet');
const REVISION = 'deployment.kubernetes.io/revision';
// Annotations of a Deployment that are not copied to its ReplicaSets.
const NOT_COPIED = new Set([
  REVISION,
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
]);

const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);

/** Runs the Deployment controller. */
export class DeploymentController {
  readonly queue: WorkQueue;

  constructor(private readonly cluster: Cluster) {
    this.queue = new WorkQueue((k) => this.reconcile(k));
  }

  /** Reacts to changes of Deployments and of their ReplicaSets. */
  onEvent(e: StoreEvent): void {
    if (e.rt === DEPLOY) this.queue.add(keyOf(e.object));
    else if (e.rt === RS) {
      const owner = controllerOf(e.object);
      if (owner?.kind === 'Deployment') this.queue.add(`${e.object.metadata.namespace ?? ''}/${owner.name}`);
    }
  }

  private reconcile(key: string): void {
    const [ns, name] = splitKey(key);
    const { store } = this.cluster;
    const d = store.get(DEPLOY, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec as JsonObject;
    const template = spec.template as JsonObject;
    const replicas = num(spec.replicas, 1);
    const hash = templateHash(template);
    const owned = ownedBy(store.list(RS, { namespace: ns }), d).filter((r) => !r.metadata.deletionTimestamp);
    const revisionOf = (r: KObject): number => Number(r.metadata.annotations?.[REVISION] ?? 0);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    let newRs = owned.find((r) => r.metadata.labels?.['pod-template-hash'] === hash);
    const annotations = Object.fromEntries(
      Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)),
    );
    let created = false;
    if (!newRs) {
      newRs = this.createReplicaSet(
        d,
        hash,
        String(maxRevision + 1),
        annotations,
        spec.paused === true ? 0 : replicas,
      );
      created = true;
    } else if (
      revisionOf(newRs) !== maxRevision ||
      (newRs.spec && (newRs.spec as JsonObject).replicas !== replicas)
    ) {
      // A rollback to an older template makes its ReplicaSet the newest revision again.
      const rev = revisionOf(newRs) === maxRevision ? maxRevision : maxRevision + 1;
      newRs =
        this.cluster.mutate(RS, ns, newRs.metadata.name, (r) => {
          r.metadata.annotations = {
            ...r.metadata.annotations,
            ...annotations,
            [REVISION]: String(rev),
            'deployment.kubernetes.io/desired-replicas': String(replicas),
          };
          if (spec.paused !== true) (r.spec as JsonObject).replicas = replicas;
        }) ?? newRs;
    }
    const olds = owned.filter((r) => r.metadata.uid !== newRs.metadata.uid);
    const newStatus = (newRs.status ?? {}) as JsonObject;
    const newAvailable = num(newStatus.availableReplicas);
    const recreate = getPath(spec, ['strategy', 'type']) === 'Recreate';
    for (const old of olds) {
      const oldReplicas = num((old.spec as JsonObject).replicas);
      if (oldReplicas > 0 && (recreate || newAvailable >= replicas) && spec.paused !== true) {
        this.cluster.mutate(RS, ns, old.metadata.name, (r) => {
          (r.spec as JsonObject).replicas = 0;
        });
        this.cluster.events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled down replica set ${old.metadata.name} from ${oldReplicas} to 0`,
          'deployment-controller',
        );
      }
    }
    this.cleanupHistory(d, olds);
    if (d.metadata.annotations?.[REVISION] !== newRs.metadata.annotations?.[REVISION]) {
      this.cluster.mutate(DEPLOY, ns, name, (x) => {
        x.metadata.annotations = {
          ...x.metadata.annotations,
          [REVISION]: newRs.metadata.annotations?.[REVISION] ?? '1',
        };
      });
    }
    this.updateStatus(key, newRs, olds, created);
  }

  private createReplicaSet(
    d: KObject,
    hash: string,
    revision: string,
    annotations: Record<string, string>,
    replicas: number,
  ): KObject {
    const spec = d.spec as JsonObject;
    const template = clone(spec.template) as JsonObject;
    const tplMeta = (template.metadata ?? {}) as JsonObject;
    tplMeta.labels = { ...(tplMeta.labels as object), 'pod-template-hash': hash };
    template.metadata = tplMeta;
    const selector = clone(spec.selector) as JsonObject;
    selector.matchLabels = { ...(selector.matchLabels as object), 'pod-template-hash': hash };
    const rs = this.cluster.create(
      RS,
      makeObject(
        'apps/v1',
        'ReplicaSet',
        {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: tplMeta.labels as Record<string, string>,
          annotations: {
            ...annotations,
            [REVISION]: revision,
            'deployment.kubernetes.io/desired-replicas': String(replicas),
            'deployment.kubernetes.io/max-replicas': String(replicas + 1),
          },
          ownerReferences: [controllerRef(d)],
        },
        {
          spec: {
            replicas,
            ...(spec.minReadySeconds !== undefined && { minReadySeconds: spec.minReadySeconds }),
            selector,
            template,
          },
        },
      ),
    );
    this.cluster.events.record(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${rs.metadata.name} from 0 to ${replicas}`,
      'deployment-controller',
    );
    return rs;
  }

  private cleanupHistory(d: KObject, olds: KObject[]): void {
    const limit = num((d.spec as JsonObject).revisionHistoryLimit, 10);
    const idle = olds
      .filter(
        (r) =>
          num((r.spec as JsonObject).replicas) === 0 &&
          num((r.status as JsonObject | undefined)?.replicas) === 0,
      )
      .sort(
        (a, b) =>
          Number(a.metadata.annotations?.[REVISION] ?? 0) - Number(b.metadata.annotations?.[REVISION] ?? 0),
      );
    for (const r of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.cluster.delete(RS, r.metadata.namespace, r.metadata.name, { propagationPolicy: 'Background' });
    }
  }

  private updateStatus(key: string, newRs: KObject, olds: KObject[], created: boolean): void {
    const [ns, name] = splitKey(key);
    const d = this.cluster.store.get(DEPLOY, ns, name);
    if (!d) return;
    const spec = d.spec as JsonObject;
    const replicas = num(spec.replicas, 1);
    const all = [newRs, ...olds].map((r) => this.cluster.store.get(RS, ns, r.metadata.name) ?? r);
    const st = (r: KObject): JsonObject => (r.status ?? {}) as JsonObject;
    const cur = all[0] ?? newRs;
    const total = all.reduce((n, r) => n + num(st(r).replicas), 0);
    const ready = all.reduce((n, r) => n + num(st(r).readyReplicas), 0);
    const available = all.reduce((n, r) => n + num(st(r).availableReplicas), 0);
    const updated = num(st(cur).replicas);
    const old = (d.status ?? {}) as JsonObject;
    let conditions = (Array.isArray(old.conditions) ? old.conditions : []) as Condition[];
    const maxUnavailable = this.maxUnavailable(d, replicas);
    conditions = setCondition(
      conditions,
      available >= replicas - maxUnavailable
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      true,
    );
    const rsName = cur.metadata.name;
    const complete =
      updated === replicas &&
      available >= replicas &&
      total === updated &&
      num(st(cur).availableReplicas) >= replicas;
    const prev = conditions.find((c) => c.type === 'Progressing');
    const counts = JSON.stringify([total, ready, available, updated]);
    const oldCounts = JSON.stringify([
      num(old.replicas),
      num(old.readyReplicas),
      num(old.availableReplicas),
      num(old.updatedReplicas),
    ]);
    const deadlineMs =
      num(spec.progressDeadlineSeconds, 600) * 1000 * (this.cluster.scenario.progressDeadlineScale ?? 0.01);
    const progressed = counts !== oldCounts;
    const since = Date.now() - Date.parse(prev?.lastUpdateTime ?? '');
    let progressing: Condition;
    let touch = false;
    if (complete) {
      progressing = {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${rsName}" has successfully progressed.`,
      };
    } else if (spec.paused === true) {
      progressing = {
        type: 'Progressing',
        status: 'Unknown',
        reason: 'DeploymentPaused',
        message: 'Deployment is paused',
      };
    } else if (prev?.reason === 'ProgressDeadlineExceeded' && !progressed && !created) {
      progressing = prev;
    } else if (created) {
      progressing = {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetCreated',
        message: `Created new replica set "${rsName}"`,
      };
      touch = true;
      this.queue.addAfter(key, deadlineMs + 10);
    } else if (progressed || !prev || prev.reason === 'NewReplicaSetAvailable') {
      progressing = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${rsName}" is progressing.`,
      };
      touch = true;
      this.queue.addAfter(key, deadlineMs + 10);
    } else if (since > deadlineMs) {
      progressing = {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${rsName}" has timed out progressing.`,
      };
      this.cluster.events.record(
        d,
        'Warning',
        'ProgressDeadlineExceeded',
        `Deployment "${d.metadata.name}" has timed out progressing.`,
        'deployment-controller',
      );
    } else {
      progressing = prev;
      this.queue.addAfter(key, deadlineMs - since + 10);
    }
    conditions = setCondition(conditions, progressing, true, touch);
    const status: JsonObject = {
      observedGeneration: d.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(replicas - available > 0 && { unavailableReplicas: replicas - available }),
      conditions,
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const)
      if (status[k] === 0) delete status[k];
    if (sameJson(status, d.status)) return;
    d.status = status;
    this.cluster.update(DEPLOY, d, { subresource: 'status' });
  }

  private maxUnavailable(d: KObject, replicas: number): number {
    const v = getPath(d, ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable']);
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.endsWith('%'))
      return Math.floor((replicas * Number(v.slice(0, -1))) / 100);
    return getPath(d, ['spec', 'strategy', 'type']) === 'Recreate' ? replicas : 0;
  }
}
