import type { CommandContext } from '../cli.ts';
import type { ClusterSession } from '../context.ts';
import { type Helm, helmTargetArgs } from '../helm.ts';
import { redact } from '../redact.ts';
import { defaultPortForwardOptions, runPortForward } from '../forwarding.ts';

interface HistoryEntry {
  revision: number;
  status: string;
}

/**
 * With --rollback-on-failure: back to the last revision that deployed, or, when this was the first
 * install, uninstall (volumes and kept Secrets stay). Returns what was done, for the log.
 */
export async function rollBack(helm: Helm, failedRevision: number | null): Promise<string> {
  const t = helm.target;
  const hist = await helm.run(['history', t.release, ...helmTargetArgs(t), '-o', 'json', '--max', '20']);
  const entries = hist.exitCode === 0 ? (JSON.parse(hist.stdout || '[]') as HistoryEntry[]) : [];
  const good = entries
    .filter((e) => e.revision !== failedRevision && ['deployed', 'superseded'].includes(e.status))
    .sort((a, b) => b.revision - a.revision)[0];
  if (!good) {
    await helm.uninstall();
    return `rolled back: first install failed, release ${t.release} uninstalled (database volumes and kept Secrets remain)`;
  }
  const res = await helm.run(['rollback', t.release, String(good.revision), ...helmTargetArgs(t)]);
  if (res.exitCode !== 0)
    return `rollback to revision ${good.revision} failed: ${redact(res.stderr.trim().split('\n')[0] ?? '')}`;
  return `rolled back to revision ${good.revision}`;
}

/**
 * With --port-forward: the deploy document goes out first (stdout stays one JSON document), then
 * port-forward takes over in the foreground until Ctrl+C.
 */
export async function handOver(
  ctx: CommandContext,
  s: ClusterSession,
  printDoc: () => void,
): Promise<number> {
  printDoc();
  ctx.log.info('');
  ctx.log.step('handing over to port-forward (Ctrl+C stops the forwards)');
  return runPortForward(s, defaultPortForwardOptions(), ctx);
}
