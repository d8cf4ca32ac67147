// Object shapes shared by the simulated cluster's modules.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** Any API object as stored: JSON with typed metadata. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A JSON object of unknown shape. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy of JSON data. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The current time as a Kubernetes timestamp (RFC 3339, seconds). */
export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The current time with microseconds, as MicroTime fields carry it. */
export function nowMicro(): string {
  return new Date().toISOString().replace(/Z$/, '000Z');
}

/** Reads a nested field by path; undefined when any step is missing. */
export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Reads a nested object by path, creating missing steps. */
export function ensurePath(obj: JsonObject, path: readonly string[]): JsonObject {
  let cur = obj;
  for (const p of path) {
    const next = cur[p];
    if (isObject(next)) cur = next;
    else {
      const created: JsonObject = {};
      cur[p] = created;
      cur = created;
    }
  }
  return cur;
}

const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix from the alphabet Kubernetes uses for generated names. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += RANDOM_ALPHABET[Math.floor(Math.random() * RANDOM_ALPHABET.length)];
  return s;
}

/** The owner reference of the object that controls `obj`, if any. */
export function controllerOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller);
}

/** An owner reference marking `owner` as the controller of a dependent. */
export function controllerRef(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A new object to create (the store fills uid, resourceVersion and timestamps). */
export function makeObject(
  apiVersion: string,
  kind: string,
  metadata: Partial<ObjectMeta>,
  body: JsonObject = {},
): KObject {
  return { ...body, apiVersion, kind, metadata: metadata as ObjectMeta };
}
