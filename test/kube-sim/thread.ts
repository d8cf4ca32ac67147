// Runs a simulated cluster in a worker thread, so that a test blocking its own thread (for
// example with spawnSync('kubectl', ...)) does not block the API server kubectl is talking to.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FaultCounts } from './faults.ts';
import type { Scenario } from './scenario.ts';

/** Messages from the owner to the worker. */
export type ThreadMessage =
  | { type: 'scenario'; id: number; scenario: Scenario | string }
  | { type: 'api'; id: number; down: boolean }
  | { type: 'counts'; id: number }
  | { type: 'stop' };

type Reply =
  | { type: 'ready'; url: string; port: number; kubeconfigPath: string; dir: string }
  | { type: 'error'; message: string }
  | { type: 'ack'; id: number; error?: string; counts?: FaultCounts }
  | { type: 'stopped' };

/** A running threaded instance. */
export interface ThreadedSim {
  url: string;
  port: number;
  kubeconfigPath: string;
  dir: string;
  setScenario(s: Scenario | string): Promise<void>;
  setApiDown(down: boolean): Promise<void>;
  faultCounts(): Promise<FaultCounts>;
  stop(): Promise<void>;
}

function bootstrapCode(): string {
  // The worker compiles the TypeScript sources with tsx, like the npm scripts do.
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(path.join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { console.error(e); process.exit(1); });`;
}

/** Starts an instance in a worker thread; `options` are those of startKubeSim. */
export function startThreaded(options: object): Promise<ThreadedSim> {
  const worker = new Worker(bootstrapCode(), { eval: true, workerData: options });
  let nextId = 0;
  const acks = new Map<number, { resolve: (counts?: FaultCounts) => void; reject: (e: Error) => void }>();
  /** Sends a message and waits for its ack. */
  const ask = (
    m:
      { type: 'scenario'; scenario: Scenario | string } | { type: 'api'; down: boolean } | { type: 'counts' },
  ) =>
    new Promise<FaultCounts | undefined>((res, rej) => {
      const id = nextId++;
      acks.set(id, { resolve: res, reject: rej });
      worker.postMessage({ ...m, id } satisfies ThreadMessage);
    });
  let stopped: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the simulated cluster's thread exited (${code}) before it served`)),
    );
    worker.on('message', (m: Reply) => {
      if (m.type === 'error') reject(new Error(m.message));
      else if (m.type === 'ack') {
        const a = acks.get(m.id);
        acks.delete(m.id);
        if (m.error) a?.reject(new Error(m.error));
        else a?.resolve(m.counts);
      } else if (m.type === 'ready') {
        resolve({
          url: m.url,
          port: m.port,
          kubeconfigPath: m.kubeconfigPath,
          dir: m.dir,
          setScenario: async (scenario) => void (await ask({ type: 'scenario', scenario })),
          setApiDown: async (down) => void (await ask({ type: 'api', down })),
          faultCounts: async () => {
            const counts = await ask({ type: 'counts' });
            if (!counts) throw new Error('the simulated cluster sent no fault counts');
            return counts;
          },
          stop: () => {
            stopped ??= (async () => {
              worker.postMessage({ type: 'stop' } satisfies ThreadMessage);
              await exited;
            })();
            return stopped;
          },
        });
      }
    });
  });
}
