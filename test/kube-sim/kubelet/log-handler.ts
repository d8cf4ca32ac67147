// GET /api/v1/namespaces/{ns}/pods/{name}/log: container, previous, tailLines, follow (ends
// when the container ends), timestamps, limitBytes; errors worded like the kubelet's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../api/http.ts';
import { KubeSimError } from '../runtime.ts';
import type { Container } from './container.ts';
import type { LogLine } from './logs.ts';
import type { PodWorker } from './pod-worker.ts';

function pick(w: PodWorker, name: string | null): Container {
  const mains = w.containers.filter((c) => c.kind === 'main');
  if (!name) {
    if (mains.length === 1 && mains[0]) return mains[0];
    const inits = w.containers.filter((c) => c.kind !== 'main').map((c) => c.name);
    throw new KubeSimError(
      400,
      `a container name must be specified for pod ${w.name}, choose one of: [${mains.map((c) => c.name).join(' ')}]${inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''}`,
    );
  }
  const c = w.containers.find((x) => x.name === name);
  if (!c) throw new KubeSimError(400, `container ${name} is not valid for pod ${w.name}`);
  return c;
}

function waitingMessage(c: Container, pod: string): string {
  const reason = c.state.waiting?.reason ?? 'ContainerCreating';
  const why =
    reason === 'ImagePullBackOff' || reason === 'ErrImagePull' ? 'trying and failing to pull image' : reason;
  return `container "${c.name}" in pod "${pod}" is waiting to start: ${why}`;
}

/** Serves a log request for a pod run by `w` (undefined: the pod does not exist). */
export function serveLogs(
  w: PodWorker | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  q: URLSearchParams,
): void {
  try {
    if (!w) throw new KubeSimError(404, `pods "${name}" not found`);
    const c = pick(w, q.get('container'));
    const previous = q.get('previous') === 'true';
    // The kubelet's rule: --previous reads the run lastState names. While a container waits to restart
    // (CrashLoopBackOff) that is the run that just ended, the one a plain read returns too.
    const run = previous ? (c.state.waiting ? c.log.current() : c.log.previous()) : c.log.current();
    if (!run) {
      if (previous)
        throw new KubeSimError(400, `previous terminated container "${c.name}" in pod "${w.name}" not found`);
      throw new KubeSimError(400, waitingMessage(c, w.name));
    }
    const stamps = q.get('timestamps') === 'true';
    const fmt = (l: LogLine): string => (stamps ? `${l.time} ${l.text}` : l.text);
    const tail = q.get('tailLines');
    let lines = run.lines;
    if (tail !== null && Number(tail) >= 0) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
    const since = q.get('sinceSeconds');
    if (since !== null) lines = lines.filter((l) => Date.parse(l.time) >= Date.now() - Number(since) * 1000);
    let text = lines.map(fmt).join('');
    const limit = q.get('limitBytes');
    if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
    const follow = q.get('follow') === 'true' && !previous;
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}),
    });
    if (!follow) {
      res.end(text);
      return;
    }
    res.write(text);
    const stop = run.follow((l) => {
      if (l === null) res.end();
      else res.write(fmt(l));
    });
    req.socket.once('close', stop);
  } catch (err) {
    sendError(res, err);
  }
}
