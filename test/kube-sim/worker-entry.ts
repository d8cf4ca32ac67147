// The body of a simulated cluster running in its own thread (see thread.ts): it starts an
// in-process instance and answers the owner's messages.
import { parentPort, workerData } from 'node:worker_threads';
import { startKubeSim, type KubeSimOptions } from './index.ts';
import type { ThreadMessage } from './thread.ts';

const port = parentPort;
if (!port) throw new Error('worker-entry.ts runs only as a worker thread');

try {
  const sim = await startKubeSim({ ...(workerData as KubeSimOptions), inProcess: true });
  port.on('message', (m: ThreadMessage) => {
    if (m.type === 'scenario') {
      try {
        sim.setScenario(m.scenario);
        port.postMessage({ type: 'ack', id: m.id });
      } catch (err) {
        port.postMessage({ type: 'ack', id: m.id, error: err instanceof Error ? err.message : String(err) });
      }
    } else if (m.type === 'api') {
      sim.setApiDown(m.down).then(
        () => port.postMessage({ type: 'ack', id: m.id }),
        (err: unknown) =>
          port.postMessage({
            type: 'ack',
            id: m.id,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
    } else if (m.type === 'counts') {
      void sim.faultCounts().then((counts) => port.postMessage({ type: 'ack', id: m.id, counts }));
    } else if (m.type === 'stop') {
      void sim.stop().then(() => {
        port.postMessage({ type: 'stopped' });
        port.close();
      });
    }
  });
  port.postMessage({
    type: 'ready',
    url: sim.url,
    port: sim.port,
    kubeconfigPath: sim.kubeconfigPath,
    dir: sim.dir,
  });
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
