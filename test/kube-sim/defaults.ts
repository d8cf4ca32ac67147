// Defaulting of the built-in kinds (the fields a real API server fills in), so objects read
// back look like a real cluster's and controllers can rely on them.
import { imageRepository } from './scenario.ts';
import { ensurePath, isObject, type JsonObject, type KObject } from './types.ts';

const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const setDefault = (o: JsonObject, k: string, v: unknown): void => {
  if (o[k] === undefined || o[k] === null) o[k] = v;
};

function probeDefaults(p: unknown): void {
  if (!isObject(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  if (isObject(p.httpGet)) setDefault(p.httpGet, 'scheme', 'HTTP');
}

function containerDefaults(c: JsonObject): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  const image = String(c.image ?? '');
  const tagged = imageRepository(image) !== image.split('@')[0] || image.includes('@');
  setDefault(c, 'imagePullPolicy', !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent');
  setDefault(c, 'resources', {});
  for (const p of list(c.ports)) setDefault(p, 'protocol', 'TCP');
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) probeDefaults(c[k]);
  for (const e of list(c.env)) {
    const ref = isObject(e.valueFrom) ? e.valueFrom.fieldRef : undefined;
    if (isObject(ref)) setDefault(ref, 'apiVersion', 'v1');
  }
}

/** Fills the defaults of a PodSpec (in place); `isPod` adds what only Pods get. */
export function podSpecDefaults(spec: JsonObject, isPod: boolean): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  for (const c of [...list(spec.containers), ...list(spec.initContainers)]) containerDefaults(c);
  for (const v of list(spec.volumes)) {
    for (const k of ['secret', 'configMap', 'projected', 'downwardAPI'])
      if (isObject(v[k])) setDefault(v[k], 'defaultMode', 420);
  }
  if (isPod) {
    setDefault(spec, 'serviceAccountName', 'default');
    setDefault(spec, 'serviceAccount', spec.serviceAccountName);
    setDefault(spec, 'enableServiceLinks', true);
    setDefault(spec, 'priority', 0);
    setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
    setDefault(spec, 'tolerations', [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
  }
}

function templateDefaults(o: JsonObject, path: string[]): void {
  const tpl = ensurePath(o, path);
  ensurePath(tpl, ['metadata']);
  podSpecDefaults(ensurePath(tpl, ['spec']), false);
}

function jobSpecDefaults(spec: JsonObject): void {
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
  templateDefaults(spec, ['template']);
}

/** Fills the defaults of an object of a built-in kind (in place). */
export function applyDefaults(o: KObject, defaultStorageClass: string | undefined): void {
  const spec = (): JsonObject => ensurePath(o, ['spec']);
  switch (o.kind) {
    case 'Pod':
      podSpecDefaults(spec(), true);
      break;
    case 'Deployment': {
      const s = spec();
      setDefault(s, 'replicas', 1);
      setDefault(s, 'revisionHistoryLimit', 10);
      setDefault(s, 'progressDeadlineSeconds', 600);
      setDefault(s, 'strategy', { type: 'RollingUpdate' });
      const st = s.strategy as JsonObject;
      if (st.type === 'RollingUpdate')
        setDefault(st, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
      templateDefaults(s, ['template']);
      break;
    }
    case 'ReplicaSet':
      setDefault(spec(), 'replicas', 1);
      templateDefaults(spec(), ['template']);
      break;
    case 'StatefulSet': {
      const s = spec();
      setDefault(s, 'replicas', 1);
      setDefault(s, 'podManagementPolicy', 'OrderedReady');
      setDefault(s, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
      setDefault(s, 'revisionHistoryLimit', 10);
      setDefault(s, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      for (const t of list(s.volumeClaimTemplates)) {
        setDefault(t, 'apiVersion', 'v1');
        setDefault(t, 'kind', 'PersistentVolumeClaim');
        setDefault(ensurePath(t, ['spec']), 'volumeMode', 'Filesystem');
        setDefault(t, 'status', { phase: 'Pending' });
      }
      templateDefaults(s, ['template']);
      break;
    }
    case 'Job':
      jobSpecDefaults(spec());
      break;
    case 'CronJob': {
      const s = spec();
      setDefault(s, 'concurrencyPolicy', 'Allow');
      setDefault(s, 'suspend', false);
      setDefault(s, 'successfulJobsHistoryLimit', 3);
      setDefault(s, 'failedJobsHistoryLimit', 1);
      const jt = ensurePath(s, ['jobTemplate']);
      ensurePath(jt, ['metadata']);
      const js = ensurePath(jt, ['spec']);
      for (const k of ['parallelism', 'completions']) setDefault(js, k, 1);
      setDefault(js, 'backoffLimit', 6);
      setDefault(js, 'completionMode', 'NonIndexed');
      setDefault(js, 'suspend', false);
      templateDefaults(js, ['template']);
      break;
    }
    case 'Service': {
      const s = spec();
      setDefault(s, 'type', 'ClusterIP');
      setDefault(s, 'sessionAffinity', 'None');
      setDefault(s, 'internalTrafficPolicy', 'Cluster');
      setDefault(s, 'ipFamilies', ['IPv4']);
      setDefault(s, 'ipFamilyPolicy', 'SingleStack');
      for (const p of list(s.ports)) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
      }
      if (s.type === 'NodePort' || s.type === 'LoadBalancer')
        setDefault(s, 'externalTrafficPolicy', 'Cluster');
      break;
    }
    case 'Secret':
      setDefault(o, 'type', 'Opaque');
      if (isObject(o.stringData)) {
        const data = ensurePath(o, ['data']);
        for (const [k, v] of Object.entries(o.stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
        delete o.stringData;
      }
      break;
    case 'PersistentVolumeClaim': {
      const s = spec();
      setDefault(s, 'volumeMode', 'Filesystem');
      if (s.storageClassName === undefined && defaultStorageClass) s.storageClassName = defaultStorageClass;
      break;
    }
    case 'Namespace':
      setDefault(spec(), 'finalizers', ['kubernetes']);
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
      break;
  }
}
