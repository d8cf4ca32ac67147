import { DATABASES, type DbInfo, type DbName, releaseSelector } from '../components.ts';
import { confirm } from '../confirm.ts';
import { backupDatabase as backupOne, dbBackupFile } from '../db-backup.ts';
import { OperationError, UsageError } from '../errors.ts';
import type { ExistingSecretRef } from '../existing-secrets.ts';
import type { Helm } from '../helm.ts';
import type { Kubectl } from '../kubectl.ts';
import { abortableSleep } from '../time.ts';
import { npmRun } from '../suggest.ts';

export { dumpArgs, dumpCommand } from '../db-backup.ts';

/**
 * Asks before deleting data: the namespace's name must be typed; `--yes` answers for scripts; without a
 * TTY and without `--yes` it is a usage error (exit 2), never a silent yes.
 */
/**
 * --fresh deletes the namespace, and with it the Secrets of the user's that the values name: the deploy
 * after it could not start the pods that read them. Refused before anything happens (exit 2).
 */
export function freshDeletesTheirs(refs: readonly ExistingSecretRef[], namespace: string): UsageError {
  const names = [...new Set(refs.map((r) => r.secret))];
  return new UsageError(
    `--fresh deletes namespace ${namespace}, and with it Secret ${names.join(', ')} (yours, named by ${refs.map((r) => r.valuePath).join(', ')}), which the new release needs`,
    {
      hint: `start over by hand instead: ${npmRun('db', 'backup', 'all')}, helm uninstall, delete the volumes, then ${npmRun('deploy')} (the Secrets stay)`,
    },
  );
}

export async function confirmFresh(opts: {
  namespace: string;
  yes: boolean;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  prompt: NodeJS.WritableStream;
}): Promise<void> {
  await confirm(
    opts,
    `This deletes namespace "${opts.namespace}" with both databases (backed up first unless --no-backup).`,
    `--fresh deletes namespace "${opts.namespace}" and both databases`,
    `${npmRun('deploy', '--fresh', '--yes')} (the backups go to backups/ first)`,
    {
      prompt: 'Type the namespace name to go on:',
      accept: (answer) => answer === opts.namespace,
      refused: 'not confirmed: nothing was deleted',
    },
  );
}

/** `backups/<release>-<db>-<timestamp>.dump`: the name `npm run db -- backup` gives too (lib/db-backup.ts). */
export function backupFile(dir: string, release: string, db: DbName, now: Date): string {
  return dbBackupFile(dir, release, db, now);
}

/**
 * Dumps one database with the code of `npm run db -- backup` (custom format, metadata beside it, mode
 * 0600). A database with no volume has nothing to back up; one whose pod is not running stops --fresh.
 */
export async function backupDatabase(
  kubectl: Kubectl,
  db: DbInfo,
  release: string,
  file: string,
): Promise<string | undefined> {
  const done = await backupOne(kubectl, db, file, {
    release,
    hint: 'fix the database (npm run doctor) and retry, or skip the backup with --no-backup',
    notRunningHint: `start it (npm run deploy) and retry, or skip the backup with --no-backup (its data is then lost)`,
  });
  return done?.file;
}

/** Backs up both databases, one after the other; returns the files written. */
export async function backupDatabases(
  kubectl: Kubectl,
  release: string,
  dir: string,
  now = new Date(),
): Promise<string[]> {
  const files: string[] = [];
  for (const db of Object.values(DATABASES)) {
    const f = await backupDatabase(kubectl, db, release, backupFile(dir, release, db.db, now));
    if (f) files.push(f);
  }
  return files;
}

/** kubectl arguments that delete the database volumes, then any other volume of the release. */
export function pvcDeleteArgs(release: string): string[][] {
  const pvcs = Object.values(DATABASES).map((d) => d.pvc);
  return [
    ['delete', 'pvc', ...pvcs, '--ignore-not-found', '--wait=false'],
    ['delete', 'pvc', '-l', releaseSelector(release), '--ignore-not-found', '--wait=false'],
  ];
}

/** kubectl arguments (cluster-scoped) that delete the namespace without waiting. */
export function namespaceDeleteArgs(namespace: string): string[] {
  return ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'];
}

/** Uninstalls the release, deletes its volumes and the namespace, and waits until the namespace is gone. */
export async function teardown(
  kubectl: Kubectl,
  helm: Helm,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  await helm.uninstall();
  const ns = kubectl.target.namespace;
  for (const args of pvcDeleteArgs(helm.target.release)) await kubectl.run(args);
  await kubectl.ok(namespaceDeleteArgs(ns), `delete namespace ${ns}`, { clusterScoped: true });
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const out = await kubectl.ok(
      ['get', 'namespace', ns, '--ignore-not-found', '-o', 'name'],
      `read namespace ${ns}`,
      { clusterScoped: true },
    );
    if (out.trim() === '') return;
    if (Date.now() >= deadline) {
      throw new OperationError(`namespace "${ns}" is still terminating`, {
        hint: `see what holds it: kubectl get namespace ${ns} -o yaml (finalizers), then rerun npm run deploy`,
      });
    }
    await abortableSleep(1000, opts.signal);
  }
}
