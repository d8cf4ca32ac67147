import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kubectl } from './kubectl.ts';

/**
 * One `kubectl proxy` for several GETs of the API server from this process: a kubectl process costs
 * about as much CPU as the request it makes, so the health checks of a verification (four apps) go
 * through one proxy instead of four `kubectl get --raw`. It listens on a unix socket in a folder of
 * its own (mode 0700): only this user can use it, and only while it runs; it is started through the
 * runner (stopped by pid on exit or Ctrl+C) and stopped when the checks are done.
 */
export interface ApiProxy {
  /** GET a path of the API server; `error` when no HTTP answer came (the proxy died, a timeout). */
  get(apiPath: string, timeoutMs: number): Promise<{ status: number; body: string; error?: string }>;
  stop(): Promise<void>;
}

/** How long kubectl proxy may take to start serving before the caller falls back to kubectl per request. */
const START_MS = 15_000;

/** Starts the proxy; undefined when it does not serve in time (the caller then asks kubectl per request). */
export async function startApiProxy(kubectl: Kubectl): Promise<ApiProxy | undefined> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'taskflow-api-'));
  const socket = path.join(dir, 'api.sock');
  const child = kubectl.start(['proxy', `--unix-socket=${socket}`], { clusterScoped: true });
  // The folder goes with the proxy, or at the latest when this process exits (Ctrl+C stops the proxy).
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const cleanup = async () => {
    await child.stop();
    removeDir();
    process.off('exit', removeDir);
  };
  const serving = await new Promise<boolean>((resolve) => {
    let seen = '';
    const timer = setTimeout(() => resolve(false), START_MS);
    timer.unref();
    child.stdout.on('data', (d: Buffer | string) => {
      seen += d.toString();
      if (/Starting to serve on/.test(seen)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!serving) {
    await cleanup();
    return undefined;
  }
  return {
    get: (apiPath, timeoutMs) =>
      new Promise((resolve) => {
        const req = request(
          { socketPath: socket, path: apiPath, method: 'GET', timeout: timeoutMs },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            res.on('error', (err) => resolve({ status: 0, body, error: err.message }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
        req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
        req.end();
      }),
    stop: cleanup,
  };
}
