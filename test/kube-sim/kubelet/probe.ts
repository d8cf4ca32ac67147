// Readiness probes of program containers, run against the pod IP as a kubelet runs them: httpGet
// passes on a status from 200 to 399, tcpSocket on a connection; an exec probe, or none, passes.
import http from 'node:http';
import net from 'node:net';
import type { JsonObject } from '../types.ts';

const PROBE_TIMEOUT_MS = 1_000;

/** A probe's port: a number, or the name of one of the container's ports. */
function portOf(spec: JsonObject, port: unknown): number | undefined {
  if (typeof port === 'number') return port;
  const named = ((spec.ports ?? []) as JsonObject[]).find((p) => p.name === port);
  return named ? Number(named.containerPort) : undefined;
}

/** Runs the container's readinessProbe once. */
export async function probeOnce(podIp: string, spec: JsonObject): Promise<boolean> {
  const probe = spec.readinessProbe as
    { httpGet?: { path?: string; port?: unknown }; tcpSocket?: { port?: unknown } } | undefined;
  if (probe?.httpGet) {
    const port = portOf(spec, probe.httpGet.port);
    if (port === undefined) return false;
    return new Promise((resolve) => {
      const req = http.get(
        { host: podIp, port, path: probe.httpGet!.path ?? '/', timeout: PROBE_TIMEOUT_MS, agent: false },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 400);
        },
      );
      req.once('timeout', () => req.destroy());
      req.once('error', () => resolve(false));
    });
  }
  if (probe?.tcpSocket) {
    const port = portOf(spec, probe.tcpSocket.port);
    if (port === undefined) return false;
    return new Promise((resolve) => {
      const s = net.connect({ host: podIp, port, timeout: PROBE_TIMEOUT_MS });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(false));
    });
  }
  return true;
}
