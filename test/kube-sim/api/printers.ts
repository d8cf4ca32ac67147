// Table columns of the built-in kinds, as the real server prints them for `kubectl get`.
import { getPath, isObject, type JsonObject, type KObject } from '../types.ts';
import { age } from './age.ts';
import { AGE, col, condTrue, list, NAME, num, spec, status, str, type Printer } from './print-util.ts';
import { WORKLOAD_PRINTERS } from './printers-workloads.ts';

function servicePorts(o: KObject): string {
  const ports = list(spec(o).ports);
  if (!ports.length) return '<none>';
  return ports
    .map((p) => `${num(p.port)}${p.nodePort ? `:${num(p.nodePort)}` : ''}/${str(p.protocol, 'TCP')}`)
    .join(',');
}

const PRINTERS: Record<string, Printer> = {
  ...WORKLOAD_PRINTERS,
  Service: {
    columns: [
      NAME,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      AGE,
      col('Selector', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      str(spec(o).type, 'ClusterIP'),
      str(spec(o).clusterIP),
      spec(o).type === 'LoadBalancer' ? '<pending>' : '<none>',
      servicePorts(o),
      age(o.metadata.creationTimestamp),
      isObject(spec(o).selector)
        ? Object.entries(spec(o).selector as JsonObject)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(',')
        : '<none>',
    ],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    cells: (o) => [o.metadata.name, str(status(o).phase, 'Active'), age(o.metadata.creationTimestamp)],
  },
  Secret: {
    columns: [NAME, col('Type'), col('Data', 0, 'string'), AGE],
    cells: (o) => [
      o.metadata.name,
      str(o.type, 'Opaque'),
      Object.keys(isObject(o.data) ? o.data : {}).length,
      age(o.metadata.creationTimestamp),
    ],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 0, 'string'), AGE],
    cells: (o) => [
      o.metadata.name,
      Object.keys(isObject(o.data) ? o.data : {}).length +
        Object.keys(isObject(o.binaryData) ? o.binaryData : {}).length,
      age(o.metadata.creationTimestamp),
    ],
  },
  PersistentVolumeClaim: {
    columns: [
      NAME,
      col('Status'),
      col('Volume'),
      col('Capacity'),
      col('Access Modes'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      AGE,
      col('VolumeMode', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      o.metadata.deletionTimestamp ? 'Terminating' : str(status(o).phase, 'Pending'),
      str(spec(o).volumeName, ''),
      str(getPath(o, ['status', 'capacity', 'storage']), ''),
      accessModes(status(o).accessModes),
      str(spec(o).storageClassName),
      '<unset>',
      age(o.metadata.creationTimestamp),
      str(spec(o).volumeMode, 'Filesystem'),
    ],
  },
  PersistentVolume: {
    columns: [
      NAME,
      col('Capacity'),
      col('Access Modes'),
      col('Reclaim Policy'),
      col('Status'),
      col('Claim'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      col('Reason'),
      AGE,
    ],
    cells: (o) => {
      const ref = spec(o).claimRef;
      return [
        o.metadata.name,
        str(getPath(o, ['spec', 'capacity', 'storage']), ''),
        accessModes(spec(o).accessModes),
        str(spec(o).persistentVolumeReclaimPolicy, 'Delete'),
        str(status(o).phase),
        isObject(ref) ? `${String(ref.namespace)}/${String(ref.name)}` : '',
        str(spec(o).storageClassName, ''),
        '<unset>',
        '',
        age(o.metadata.creationTimestamp),
      ];
    },
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 1),
      col('Source', 1),
      col('Message'),
      col('First Seen', 1),
      col('Count', 1),
      col('Name', 1),
    ],
    cells: (o) => {
      const io = isObject(o.involvedObject) ? o.involvedObject : {};
      return [
        age(o.lastTimestamp ?? o.eventTime),
        str(o.type, ''),
        str(o.reason, ''),
        `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`,
        str(io.fieldPath, ''),
        str(getPath(o, ['source', 'component']), ''),
        str(o.message, ''),
        age(o.firstTimestamp ?? o.eventTime),
        num(o.count) || 1,
        o.metadata.name,
      ];
    },
  },
  Node: {
    columns: [
      NAME,
      col('Status'),
      col('Roles'),
      AGE,
      col('Version'),
      col('Internal-IP', 1),
      col('External-IP', 1),
      col('OS-Image', 1),
      col('Kernel-Version', 1),
      col('Container-Runtime', 1),
    ],
    cells: (o) => [
      o.metadata.name,
      condTrue(o, 'Ready') ? 'Ready' : 'NotReady',
      'control-plane',
      age(o.metadata.creationTimestamp),
      str(getPath(o, ['status', 'nodeInfo', 'kubeletVersion'])),
      '127.0.0.1',
      '<none>',
      'kube-sim',
      'kube-sim',
      'kube-sim://1',
    ],
  },
  StorageClass: {
    columns: [
      NAME,
      col('Provisioner'),
      col('ReclaimPolicy'),
      col('VolumeBindingMode'),
      col('AllowVolumeExpansion', 0, 'boolean'),
      AGE,
    ],
    cells: (o) => [
      o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true'
        ? `${o.metadata.name} (default)`
        : o.metadata.name,
      str(o.provisioner),
      str(o.reclaimPolicy, 'Delete'),
      str(o.volumeBindingMode, 'Immediate'),
      o.allowVolumeExpansion === true ? 'true' : 'false',
      age(o.metadata.creationTimestamp),
    ],
  },
  ServiceAccount: {
    columns: [NAME, col('Secrets', 0, 'integer'), AGE],
    cells: (o) => [o.metadata.name, list(o.secrets).length, age(o.metadata.creationTimestamp)],
  },
  Endpoints: {
    columns: [NAME, col('Endpoints'), AGE],
    cells: (o) => {
      const eps = list(o.subsets).flatMap((s) =>
        list(s.addresses).flatMap((a) => list(s.ports).map((p) => `${String(a.ip)}:${num(p.port)}`)),
      );
      return [o.metadata.name, eps.length ? eps.join(',') : '<none>', age(o.metadata.creationTimestamp)];
    },
  },
};

function accessModes(v: unknown): string {
  const short: Record<string, string> = {
    ReadWriteOnce: 'RWO',
    ReadOnlyMany: 'ROX',
    ReadWriteMany: 'RWX',
    ReadWriteOncePod: 'RWOP',
  };
  return Array.isArray(v) ? v.map((m) => short[String(m)] ?? String(m)).join(',') : '';
}

const DEFAULT: Printer = {
  columns: [NAME, col('Created At', 0, 'date')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

/** The printer of a kind (name and creation time for kinds without their own). */
export function printerOf(kind: string): Printer {
  return PRINTERS[kind] ?? DEFAULT;
}
