// Parsing of resource request paths and the query options clients send.
import { findType, type ResourceType } from '../resources.ts';
import { KubeSimError } from '../runtime.ts';
import { parseFieldSelector, parseLabelSelector, type FieldSelector, type Selector } from '../selectors.ts';

/** What a resource path names. */
export interface ResourcePath {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Parses /api/v1/... and /apis/{group}/{version}/...; undefined for other paths. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && ['status', 'finalize'].includes(rest[2] ?? ''))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural = '', name, subresource, ...extra] = rest;
  if (extra.length && subresource !== 'proxy') return undefined;
  const rt = findType(group, version, plural);
  if (!rt) {
    throw new KubeSimError(404, 'the server could not find the requested resource');
  }
  if (namespace !== undefined && !rt.namespaced) return undefined;
  return {
    rt,
    ...(namespace !== undefined && { namespace }),
    ...(name !== undefined && { name }),
    ...(subresource !== undefined && { subresource }),
  };
}

/** The query options of list and watch requests. */
export interface ListQuery {
  labels?: Selector;
  fields?: FieldSelector;
  watch: boolean;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  includeObject?: 'None' | 'Metadata' | 'Object';
}

/** Reads list/watch options from a query string. */
export function listQuery(q: URLSearchParams): ListQuery {
  const timeout = q.get('timeoutSeconds');
  const include = q.get('includeObject');
  const rv = q.get('resourceVersion');
  const sie = q.get('sendInitialEvents');
  return {
    ...(q.get('labelSelector') && { labels: parseLabelSelector(q.get('labelSelector')) }),
    ...(q.get('fieldSelector') && { fields: parseFieldSelector(q.get('fieldSelector')) }),
    watch: q.get('watch') === 'true' || q.get('watch') === '1',
    ...(rv !== null && { resourceVersion: rv }),
    ...(sie !== null && { sendInitialEvents: sie === 'true' }),
    allowBookmarks: q.get('allowWatchBookmarks') === 'true',
    ...(timeout !== null && { timeoutSeconds: Number(timeout) }),
    ...((include === 'None' || include === 'Metadata' || include === 'Object') && { includeObject: include }),
  };
}

/** The field manager of a write: the query's, else the user agent's program name. */
export function fieldManagerOf(q: URLSearchParams, userAgent: string | undefined): string {
  return q.get('fieldManager') || (userAgent ?? 'unknown').split('/')[0] || 'unknown';
}

/** Is this a dry run (`dryRun=All`)? */
export function isDryRun(q: URLSearchParams): boolean {
  return q.getAll('dryRun').includes('All');
}
