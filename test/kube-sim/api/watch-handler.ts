// Streams a watch as newline-delimited JSON events (objects, Tables or metadata only).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cluster } from '../cluster.ts';
import type { WatchEvent } from '../watch.ts';
import { KubeSimError } from '../runtime.ts';
import { sendError } from './http.ts';
import type { ListQuery, ResourcePath } from './request.ts';
import { contentTypeOf, partial, toTable, wantedForm } from './table.ts';

/** Serves `?watch=true` on a collection until the client leaves or the timeout passes. */
export function serveWatch(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  p: ResourcePath,
  lq: ListQuery,
): void {
  const form = wantedForm(req.headers.accept);
  let first = true;
  const encode = (e: WatchEvent): unknown => {
    if (e.type === 'BOOKMARK' || form === 'Object') return e.object;
    if (form === 'PartialObjectMetadata') return partial(e.object);
    // Column definitions go with the first event only, as the real server does.
    const table = toTable(p.rt.kind, [e.object], {
      ...(lq.includeObject && { includeObject: lq.includeObject }),
      noHeaders: !first,
      resourceVersion: e.object.metadata.resourceVersion,
    });
    first = false;
    return table;
  };
  const pending: WatchEvent[] = [];
  let started = false;
  const send = (e: WatchEvent): void => {
    if (!started) {
      pending.push(e);
      return;
    }
    if (!res.writableEnded) res.write(`${JSON.stringify({ type: e.type, object: encode(e) })}\n`);
  };
  let stop: () => void;
  try {
    const rv = lq.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== '0' && cluster.faults.rewatchGone()) {
      throw new KubeSimError(410, `too old resource version: ${rv} (injected fault)`, 'Expired');
    }
    stop = cluster.hub.watch(
      p.rt,
      {
        ...(p.namespace && { namespace: p.namespace }),
        ...(lq.labels && { labels: lq.labels }),
        ...(lq.fields && { fields: lq.fields }),
        ...(lq.resourceVersion !== undefined && { resourceVersion: lq.resourceVersion }),
        ...(lq.sendInitialEvents !== undefined && { sendInitialEvents: lq.sendInitialEvents }),
        allowBookmarks: lq.allowBookmarks,
      },
      send,
    );
  } catch (err) {
    return sendError(res, err);
  }
  res.writeHead(200, {
    'Content-Type': contentTypeOf(form),
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  started = true;
  for (const e of pending.splice(0)) send(e);
  res.flushHeaders();
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => {
    stop();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  if (lq.timeoutSeconds && lq.timeoutSeconds > 0) timer = setTimeout(end, lq.timeoutSeconds * 1000);
  const lifetime = cluster.faults.watchLifetimeMs();
  let early: NodeJS.Timeout | undefined;
  if (lifetime !== undefined) {
    early = setTimeout(() => {
      if (res.writableEnded) return;
      cluster.faults.watchClosed();
      end();
    }, lifetime);
    res.once('close', () => clearTimeout(early));
  }
  req.socket.once('close', end);
  res.once('close', end);
}
