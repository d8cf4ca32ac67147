// Table columns of the workload kinds (pods and their controllers), as the real server prints them.
import { getPath, type KObject } from '../types.ts';
import { age } from './age.ts';
import { podCells } from './pod-printer.ts';
import {
  AGE,
  col,
  condTrue,
  images,
  list,
  NAME,
  names,
  num,
  selector,
  spec,
  status,
  str,
  type Printer,
} from './print-util.ts';

function jobStatus(o: KObject): string {
  if (condTrue(o, 'Complete')) return 'Complete';
  if (condTrue(o, 'Failed')) return 'Failed';
  if (condTrue(o, 'FailureTarget')) return 'FailureTarget';
  if (condTrue(o, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (condTrue(o, 'Suspended')) return 'Suspended';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

function jobDuration(o: KObject): string {
  const start = status(o).startTime;
  if (typeof start !== 'string') return '';
  const end = status(o).completionTime;
  const endMs = typeof end === 'string' ? Date.parse(end) : Date.now();
  return age(new Date(Date.now() - (endMs - Date.parse(start))).toISOString());
}

/** Printers of Pod, Deployment, ReplicaSet, StatefulSet, Job, CronJob and ControllerRevision. */
export const WORKLOAD_PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      AGE,
      col('IP', 1),
      col('Node', 1),
      col('Nominated Node', 1),
      col('Readiness Gates', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      ...podCells(o),
      age(o.metadata.creationTimestamp),
      str(status(o).podIP),
      str(spec(o).nodeName),
      '<none>',
      '<none>',
    ],
  },
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 0, 'integer'),
      col('Available', 0, 'integer'),
      AGE,
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      `${num(status(o).readyReplicas)}/${num(spec(o).replicas ?? 1)}`,
      num(status(o).updatedReplicas),
      num(status(o).availableReplicas),
      age(o.metadata.creationTimestamp),
      names(spec(o).template),
      images(spec(o).template),
      selector(spec(o).selector),
    ],
  },
  ReplicaSet: {
    columns: [
      NAME,
      col('Desired', 0, 'integer'),
      col('Current', 0, 'integer'),
      col('Ready', 0, 'integer'),
      AGE,
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      num(spec(o).replicas),
      num(status(o).replicas),
      num(status(o).readyReplicas),
      age(o.metadata.creationTimestamp),
      names(spec(o).template),
      images(spec(o).template),
      selector(spec(o).selector),
    ],
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', 1), col('Images', 1)],
    cells: (o) => [
      o.metadata.name,
      `${num(status(o).readyReplicas)}/${num(spec(o).replicas ?? 1)}`,
      age(o.metadata.creationTimestamp),
      names(spec(o).template),
      images(spec(o).template),
    ],
  },
  Job: {
    columns: [
      NAME,
      col('Status'),
      col('Completions'),
      col('Duration'),
      AGE,
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      jobStatus(o),
      `${num(status(o).succeeded)}/${num(spec(o).completions ?? 1)}`,
      jobDuration(o),
      age(o.metadata.creationTimestamp),
      names(getPath(o, ['spec', 'template'])),
      images(getPath(o, ['spec', 'template'])),
      selector(spec(o).selector),
    ],
  },
  CronJob: {
    columns: [
      NAME,
      col('Schedule'),
      col('Timezone'),
      col('Suspend', 0, 'boolean'),
      col('Active', 0, 'integer'),
      col('Last Schedule'),
      AGE,
    ],
    cells: (o) => [
      o.metadata.name,
      str(spec(o).schedule),
      str(spec(o).timeZone),
      spec(o).suspend === true ? 'True' : 'False',
      list(status(o).active).length,
      status(o).lastScheduleTime ? age(status(o).lastScheduleTime) : '<none>',
      age(o.metadata.creationTimestamp),
    ],
  },
  ControllerRevision: {
    columns: [NAME, col('Controller'), col('Revision', 0, 'integer'), AGE],
    cells: (o) => {
      const owner = o.metadata.ownerReferences?.[0];
      return [
        o.metadata.name,
        owner ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}` : '<none>',
        num(o.revision),
        age(o.metadata.creationTimestamp),
      ];
    },
  },
};
