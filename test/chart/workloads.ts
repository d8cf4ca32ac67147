import { findObject, type K8sObject } from '../support/chart.ts';

/** The container fields the chart tests read. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string } }[];
}

export interface PodTemplate {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

/** Kinds that run pods. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'CronJob', 'Pod'];

/** The pod template of a Deployment, StatefulSet, CronJob (its Job's) or Pod. */
export function podTemplate(o: K8sObject): PodTemplate {
  const spec = o.spec as Record<string, unknown>;
  if (o.kind === 'Pod') return { metadata: o.metadata, spec: spec as unknown as PodSpec };
  if (o.kind === 'CronJob') {
    const job = spec.jobTemplate as { spec: { template: PodTemplate } };
    return job.spec.template;
  }
  return spec.template as PodTemplate;
}

/** Every object that runs pods. */
export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
}

/** Init and main containers of a workload, each with where it sits. */
export function allContainers(o: K8sObject): { container: Container; init: boolean }[] {
  const spec = podTemplate(o).spec;
  return [
    ...(spec.initContainers ?? []).map((container) => ({ container, init: true })),
    ...spec.containers.map((container) => ({ container, init: false })),
  ];
}

/** A named container (main or init) of a workload. */
export function container(o: K8sObject, name: string): Container {
  const c = allContainers(o).find((x) => x.container.name === name);
  if (!c) throw new Error(`${o.kind}/${o.metadata.name} has no container ${name}`);
  return c.container;
}

/** Where one environment variable of a container comes from, and its value when the manifest holds it. */
export interface EnvSource {
  from: 'configmap' | 'secret' | 'literal';
  /** ConfigMap or Secret name (configmap/secret). */
  object?: string;
  key?: string;
  /** The value, when the rendered manifest holds it (decoded for chart Secrets). */
  value?: string;
}

function decodedData(o: K8sObject): Record<string, string> {
  if (o.kind === 'Secret') {
    const data = (o.data ?? {}) as Record<string, string>;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }
  return (o.data ?? {}) as Record<string, string>;
}

/**
 * The environment a container receives, as Kubernetes assembles it: envFrom sources first, then env
 * entries (which win). References to objects the chart does not render (a user's existingSecret) keep
 * their name and key but no value.
 */
export function resolveEnv(objects: K8sObject[], c: Container): Map<string, EnvSource> {
  const out = new Map<string, EnvSource>();
  for (const src of c.envFrom ?? []) {
    const kind = src.configMapRef ? 'ConfigMap' : 'Secret';
    const name = (src.configMapRef ?? src.secretRef)!.name;
    const data = decodedData(findObject(objects, kind, name));
    for (const [key, value] of Object.entries(data)) {
      out.set(key, { from: kind === 'ConfigMap' ? 'configmap' : 'secret', object: name, key, value });
    }
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (!ref) {
      out.set(e.name, { from: 'literal', value: e.value ?? '' });
      continue;
    }
    const kind = e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
    const target = objects.find((o) => o.kind === kind && o.metadata.name === ref.name);
    out.set(e.name, {
      from: kind === 'Secret' ? 'secret' : 'configmap',
      object: ref.name,
      key: ref.key,
      ...(target && { value: decodedData(target)[ref.key] }),
    });
  }
  return out;
}

/** The environment of a workload's named container. */
export function envOf(
  objects: K8sObject[],
  kind: string,
  name: string,
  containerName = name,
): Map<string, EnvSource> {
  return resolveEnv(objects, container(findObject(objects, kind, name), containerName));
}
