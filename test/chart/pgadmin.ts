import path from 'node:path';
import { findObject, type K8sObject } from '../support/chart.ts';
import { container, podTemplate, type Container } from './workloads.ts';

/** pgAdmin's data directory in its image; server mode keeps users' storage under `storage/`. */
export const PGADMIN_DATA_DIR = '/var/lib/pgadmin';

/**
 * The storage directory name pgAdmin gives a login (its `preprocess_username`): "pga_user_" in front of
 * a name that starts with a digit, then "@" → "_", "/" and "\" → "slash".
 */
export function pgadminUserDir(username: string): string {
  const name = username.length === 0 || /^\d/.test(username) ? `pga_user_${username}` : username;
  return name.replaceAll('@', '_').replaceAll('/', 'slash').replaceAll('\\', 'slash');
}

/**
 * The file pgAdmin in server mode opens for a server's PassFile (its `get_complete_file_path`): the
 * value with leading "/" then "\" stripped, joined to `<data dir>/storage/<user dir>`.
 */
export function pgadminPassFile(email: string, passFile: string, dataDir = PGADMIN_DATA_DIR): string {
  const rel = passFile.replace(/^\/+/, '').replace(/^\\+/, '');
  return path.posix.join(dataDir, 'storage', pgadminUserDir(email), rel);
}

/** One server of the pgadmin-servers ConfigMap's servers.json. */
export interface PgadminServer {
  Name: string;
  Host: string;
  Port: number;
  Username: string;
  MaintenanceDB: string;
  SSLMode: string;
  PassFile: string;
}

/** The servers of the rendered servers.json. */
export function pgadminServers(objects: K8sObject[]): PgadminServer[] {
  const data = findObject(objects, 'ConfigMap', 'pgadmin-servers').data as Record<string, string>;
  const doc = JSON.parse(data['servers.json']!) as { Servers: Record<string, PgadminServer> };
  return Object.values(doc.Servers);
}

/** A security context's user and group fields (the shared Container type leaves them out). */
interface RunAs {
  runAsUser?: number;
  runAsGroup?: number;
}

/** The pgAdmin Deployment's main and pgpass init containers, each with the uid and gid it runs as. */
export function pgadminPod(objects: K8sObject[]): {
  main: Container;
  init: Container;
  /** Effective user and group (the container's own, else the pod's), as Kubernetes applies them. */
  runAs: (c: Container) => RunAs;
} {
  const deployment = findObject(objects, 'Deployment', 'pgadmin');
  const pod = (podTemplate(deployment).spec.securityContext ?? {}) as RunAs;
  const runAs = (c: Container): RunAs => {
    const own = (c.securityContext ?? {}) as RunAs;
    return { runAsUser: own.runAsUser ?? pod.runAsUser, runAsGroup: own.runAsGroup ?? pod.runAsGroup };
  };
  return { main: container(deployment, 'pgadmin'), init: container(deployment, 'pgpass'), runAs };
}

/** Where a container mounts a volume, by volume name. */
export function mountOf(c: Container, volume: string): string | undefined {
  return c.volumeMounts?.find((m) => m.name === volume)?.mountPath;
}
