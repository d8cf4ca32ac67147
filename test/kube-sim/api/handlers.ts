// The REST verbs on resources: get, list, create, update, patch, delete (and collections),
// including the status and scale subresources.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from '../cluster.ts';
import type { DeleteOptions, PropagationPolicy } from '../deletion.ts';
import { recordUpdate, serverSideApply } from '../patch/apply.ts';
import { applyJsonPatch } from '../patch/json-patch.ts';
import { applyMergePatch } from '../patch/merge-patch.ts';
import { applyStrategicPatch } from '../patch/strategic.ts';
import { KubeSimError } from '../runtime.ts';
import { clone, isObject, type JsonObject, type KObject } from '../types.ts';
import { parseBody, readBody, sendJson } from './http.ts';
import { asObject, listOf, scaleOf } from './objects.ts';
import { fieldManagerOf, isDryRun, listQuery, type ResourcePath } from './request.ts';
import { contentTypeOf, partial, toTable, wantedForm } from './table.ts';
import { serveWatch } from './watch-handler.ts';

interface Ctx {
  cluster: Cluster;
  req: IncomingMessage;
  res: ServerResponse;
  p: ResourcePath;
  q: URLSearchParams;
}

function respond(ctx: Ctx, code: number, o: KObject): void {
  const form = wantedForm(ctx.req.headers.accept);
  const include = listQuery(ctx.q).includeObject;
  if (form === 'Table') {
    sendJson(
      ctx.res,
      code,
      toTable(o.kind, [o], {
        ...(include && { includeObject: include }),
        resourceVersion: o.metadata.resourceVersion,
      }),
      contentTypeOf(form),
    );
  } else if (form === 'PartialObjectMetadata') sendJson(ctx.res, code, partial(o), contentTypeOf(form));
  else sendJson(ctx.res, code, o);
}

/** Serves one resource request. */
export async function handleResource(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  p: ResourcePath,
  q: URLSearchParams,
): Promise<void> {
  const ctx: Ctx = { cluster, req, res, p, q };
  const sub = p.subresource;
  if (sub && !['status', 'scale', 'eviction', 'token', 'finalize'].includes(sub)) {
    throw new KubeSimError(
      400,
      sub === 'exec' || sub === 'portforward' || sub === 'attach'
        ? 'Upgrade request required'
        : `the simulated cluster does not serve ${p.rt.plural}/${sub}`,
    );
  }
  switch (req.method) {
    case 'GET':
      return p.name === undefined ? list(ctx) : get(ctx);
    case 'POST':
      return p.name !== undefined && sub ? postSubresource(ctx) : create(ctx);
    case 'PUT':
      return update(ctx);
    case 'PATCH':
      return patch(ctx);
    case 'DELETE':
      return p.name === undefined ? deleteCollection(ctx) : remove(ctx);
    default:
      throw new KubeSimError(405, `method ${req.method ?? ''} not allowed`);
  }
}

function get(ctx: Ctx): void {
  const o = ctx.cluster.store.mustGet(ctx.p.rt, ctx.p.namespace, ctx.p.name ?? '');
  if (ctx.p.subresource === 'scale') return sendJson(ctx.res, 200, scaleOf(o));
  respond(ctx, 200, o);
}

function list(ctx: Ctx): void {
  const { cluster, p, req, res } = ctx;
  const lq = listQuery(ctx.q);
  if (lq.watch) return serveWatch(cluster, req, res, p, lq);
  const items = cluster.store.list(p.rt, {
    ...(p.namespace && { namespace: p.namespace }),
    ...(lq.labels && { labels: lq.labels }),
    ...(lq.fields && { fields: lq.fields }),
  });
  const rv = cluster.store.currentRv();
  const form = wantedForm(req.headers.accept);
  if (form === 'Table') {
    return sendJson(
      res,
      200,
      toTable(p.rt.kind, items, {
        ...(lq.includeObject && { includeObject: lq.includeObject }),
        resourceVersion: String(rv),
      }),
      contentTypeOf(form),
    );
  }
  if (form === 'PartialObjectMetadata') {
    return sendJson(
      res,
      200,
      {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: String(rv) },
        items: items.map(partial),
      },
      'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
    );
  }
  sendJson(res, 200, listOf(p.rt, items, rv));
}

async function bodyOf(ctx: Ctx): Promise<unknown> {
  return parseBody(await readBody(ctx.req), ctx.req.headers['content-type']);
}

async function create(ctx: Ctx): Promise<void> {
  const { cluster, p } = ctx;
  const o = asObject(await bodyOf(ctx), { ...p, name: undefined } as ResourcePath);
  delete o.metadata.managedFields;
  recordUpdate(p.rt.kind, undefined, o, fieldManagerOf(ctx.q, ctx.req.headers['user-agent']));
  const created = cluster.create(p.rt, o, { dryRun: isDryRun(ctx.q) });
  respond(ctx, 201, created);
}

async function postSubresource(ctx: Ctx): Promise<void> {
  const { cluster, p } = ctx;
  const body = await bodyOf(ctx);
  if (p.subresource === 'eviction' && p.rt.kind === 'Pod') {
    const opts = isObject(body) && isObject(body.deleteOptions) ? body.deleteOptions : {};
    cluster.delete(p.rt, p.namespace, p.name ?? '', deleteOptionsOf(opts, ctx.q));
    return sendJson(ctx.res, 201, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      code: 201,
    });
  }
  if (p.subresource === 'token' && p.rt.kind === 'ServiceAccount') {
    cluster.store.mustGet(p.rt, p.namespace, p.name ?? '');
    const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
    const expiry = new Date(Date.now() + Number(spec.expirationSeconds ?? 3600) * 1000).toISOString();
    return sendJson(ctx.res, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: p.name, namespace: p.namespace },
      spec,
      status: { token: `kube-sim-token-${p.namespace ?? ''}-${p.name ?? ''}`, expirationTimestamp: expiry },
    });
  }
  throw new KubeSimError(405, `POST is not supported on ${p.rt.plural}/${p.subresource ?? ''}`);
}

function writeOpts(ctx: Ctx): { dryRun: boolean; subresource?: 'status' } {
  return {
    dryRun: isDryRun(ctx.q),
    ...(ctx.p.subresource === 'status' && { subresource: 'status' as const }),
  };
}

async function update(ctx: Ctx): Promise<void> {
  const { cluster, p } = ctx;
  const body = await bodyOf(ctx);
  const old = cluster.store.mustGet(p.rt, p.namespace, p.name ?? '');
  if (p.subresource === 'scale') {
    const replicas = isObject(body) && isObject(body.spec) ? body.spec.replicas : undefined;
    const next = clone(old);
    (next.spec as JsonObject).replicas = replicas;
    return sendJson(ctx.res, 200, scaleOf(cluster.update(p.rt, next, { dryRun: isDryRun(ctx.q) })));
  }
  const o = asObject(body, p);
  if (p.subresource !== 'status')
    recordUpdate(p.rt.kind, old, o, fieldManagerOf(ctx.q, ctx.req.headers['user-agent']));
  else o.metadata.managedFields = old.metadata.managedFields ?? [];
  if (p.subresource === 'finalize' && p.rt.kind === 'Namespace') {
    const next = clone(old);
    next.spec = o.spec;
    return respond(ctx, 200, cluster.store.update(p.rt, next, { internal: true }));
  }
  respond(ctx, 200, cluster.update(p.rt, o, writeOpts(ctx)));
}

async function patch(ctx: Ctx): Promise<void> {
  const { cluster, p } = ctx;
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const body = await bodyOf(ctx);
  const manager = fieldManagerOf(ctx.q, ctx.req.headers['user-agent']);
  const current = cluster.store.get(p.rt, p.namespace, p.name ?? '');
  if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+json') {
    if (!ctx.q.get('fieldManager'))
      throw new KubeSimError(400, 'PATCH request failed: fieldManager is required for apply requests');
    const applied = asObject(body, p) as unknown as JsonObject;
    const force = ctx.q.get('force') === 'true';
    const result = serverSideApply(p.rt.kind, current, applied, manager, force);
    if (!current)
      return respond(
        ctx,
        201,
        cluster.create(p.rt, { ...result, metadata: { ...result.metadata } }, writeOpts(ctx)),
      );
    result.metadata.resourceVersion = current.metadata.resourceVersion;
    return respond(ctx, 200, cluster.update(p.rt, result, writeOpts(ctx)));
  }
  if (!current)
    throw new KubeSimError(
      404,
      `${p.rt.group ? `${p.rt.plural}.${p.rt.group}` : p.rt.plural} "${p.name ?? ''}" not found`,
    );
  const target: unknown = p.subresource === 'scale' ? scaleOf(current) : current;
  let patched: unknown;
  if (ct === 'application/json-patch+json') patched = applyJsonPatch(target, body);
  else if (ct === 'application/merge-patch+json') patched = applyMergePatch(target, body);
  else if (ct === 'application/strategic-merge-patch+json')
    patched = applyStrategicPatch(p.subresource === 'scale' ? 'Scale' : p.rt.kind, target, body);
  else
    throw new KubeSimError(
      415,
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      'UnsupportedMediaType',
    );
  if (p.subresource === 'scale') {
    const next = clone(current);
    (next.spec as JsonObject).replicas =
      isObject(patched) && isObject(patched.spec) ? patched.spec.replicas : undefined;
    return sendJson(ctx.res, 200, scaleOf(cluster.update(p.rt, next, { dryRun: isDryRun(ctx.q) })));
  }
  const o = asObject(patched, p);
  const patchedRv = isObject(body) && isObject(body.metadata) ? body.metadata.resourceVersion : undefined;
  o.metadata.resourceVersion = typeof patchedRv === 'string' ? patchedRv : current.metadata.resourceVersion;
  if (p.subresource !== 'status') recordUpdate(p.rt.kind, current, o, manager);
  respond(ctx, 200, cluster.update(p.rt, o, writeOpts(ctx)));
}

function deleteOptionsOf(body: unknown, q: URLSearchParams): DeleteOptions {
  const b = isObject(body) ? body : {};
  const policy = (q.get('propagationPolicy') ?? b.propagationPolicy) as PropagationPolicy | undefined;
  const orphan = q.get('orphanDependents') ?? b.orphanDependents;
  const grace = q.get('gracePeriodSeconds') ?? b.gracePeriodSeconds;
  const pre = isObject(b.preconditions) ? b.preconditions : undefined;
  return {
    ...(policy
      ? { propagationPolicy: policy }
      : orphan === true || orphan === 'true'
        ? { propagationPolicy: 'Orphan' as const }
        : {}),
    ...(grace !== undefined && grace !== null && { gracePeriodSeconds: Number(grace) }),
    ...(pre && { preconditions: pre as DeleteOptions['preconditions'] }),
    dryRun: isDryRun(q) || (Array.isArray(b.dryRun) && b.dryRun.includes('All')),
  };
}

async function remove(ctx: Ctx): Promise<void> {
  const raw = await readBody(ctx.req);
  const body = raw.length ? parseBody(raw, ctx.req.headers['content-type']) : {};
  const o = ctx.cluster.delete(ctx.p.rt, ctx.p.namespace, ctx.p.name ?? '', deleteOptionsOf(body, ctx.q));
  sendJson(
    ctx.res,
    o.metadata.deletionTimestamp && ctx.cluster.store.get(ctx.p.rt, ctx.p.namespace, o.metadata.name)
      ? 202
      : 200,
    o,
  );
}

async function deleteCollection(ctx: Ctx): Promise<void> {
  const raw = await readBody(ctx.req);
  const body = raw.length ? parseBody(raw, ctx.req.headers['content-type']) : {};
  const lq = listQuery(ctx.q);
  const items = ctx.cluster.store.list(ctx.p.rt, {
    ...(ctx.p.namespace && { namespace: ctx.p.namespace }),
    ...(lq.labels && { labels: lq.labels }),
    ...(lq.fields && { fields: lq.fields }),
  });
  const opts = deleteOptionsOf(body, ctx.q);
  const out = items.map((o) => ctx.cluster.delete(ctx.p.rt, o.metadata.namespace, o.metadata.name, opts));
  sendJson(ctx.res, 200, listOf(ctx.p.rt, out, ctx.cluster.store.currentRv()));
}
