// The controller manager: every controller sees every store change.
import type { Cluster } from '../cluster.ts';
import type { StoreEvent } from '../store.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointsController } from './endpoints.ts';
import { GarbageCollector } from './gc.ts';
import { JobController } from './job.ts';
import { NamespaceController } from './namespace.ts';
import { VolumeController } from './pvc.ts';
import { ReplicaSetController } from './replicaset.ts';
import { StatefulSetController } from './statefulset.ts';
import type { WorkQueue } from './queue.ts';

interface Controller {
  queue: WorkQueue;
  onEvent(e: StoreEvent): void;
}

/** Starts the controllers; the returned function stops them. */
export function startControllers(
  cluster: Cluster,
  hooks: { onClaimDeleted(namespace: string, name: string): void; onEvent?(e: StoreEvent): void },
): () => void {
  const controllers: Controller[] = [
    new GarbageCollector(cluster),
    new NamespaceController(cluster),
    new DeploymentController(cluster),
    new ReplicaSetController(cluster),
    new StatefulSetController(cluster),
    new JobController(cluster),
    new EndpointsController(cluster),
    new VolumeController(cluster, hooks.onClaimDeleted),
  ];
  const unsubscribe = cluster.store.subscribe((e) => {
    // Events are only ever read by people; no controller acts on them.
    if (e.rt.kind === 'Event') return;
    for (const c of controllers) c.onEvent(e);
    hooks.onEvent?.(e);
  });
  return () => {
    unsubscribe();
    for (const c of controllers) c.queue.stop();
  };
}
