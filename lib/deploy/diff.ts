import { type Helm, type UpgradeOptions, helmUpgradeArgs, translateHelmError, valuesStdin } from '../helm.ts';
import type { Logger } from '../log.ts';
import {
  type ManifestDiff,
  type ObjectChange,
  type ReleaseDocument,
  type Roll,
  type StaleReader,
  diffManifests,
  parseManifest,
  releaseObjects,
} from '../manifest-diff.ts';
import { npmRun } from '../suggest.ts';
import { refusedConfiguration } from './refusal.ts';
import { DATABASES, type DbInfo } from '../components.ts';
import type { CommandContext } from '../cli.ts';
import { confirm } from '../confirm.ts';
import type { Values } from '../values.ts';

/**
 * What this deploy would change, compared the way helm itself upgrades: the chart rendered with
 * exactly the values deploy sends, by helm's server-side dry run (so `lookup` sees the cluster and the
 * kept secrets and the API's replica count render as they will), against the manifest stored in the
 * release (read with the release's status). The stored manifest, not the live objects:
 * it is what helm computes its patches from and it carries no server defaults or status to filter out.
 * What it does not see is a live object edited by hand (kubectl edit); the checks after every deploy
 * still run. A plain deploy whose inputs are those of the installed revision skips the render
 * altogether (lib/deploy/inputs.ts); `--diff` always renders.
 */

/** A release as `helm upgrade --dry-run -o json` prints it, or as read back (the parts read here). */
export interface ReleaseDoc extends ReleaseDocument {
  /** The user-supplied values (they hold secrets: memory only). */
  config?: Values | null;
}

/** helm argv of the server-side dry run of deploy's upgrade, printing the release as JSON (values on stdin). */
export function dryRunArgs(helm: Pick<Helm, 'bin' | 'major' | 'target'>, upgrade: UpgradeOptions): string[] {
  return [
    ...helmUpgradeArgs(helm.bin, helm.major, helm.target, { ...upgrade, dryRun: 'server' }),
    '-o',
    'json',
  ];
}

/** The release this deploy would produce, rendered by helm against the cluster; nothing is changed. */
export async function plannedRelease(
  helm: Helm,
  values: Values,
  upgrade: UpgradeOptions,
): Promise<ReleaseDoc> {
  const res = await helm.runner.run(dryRunArgs(helm, upgrade), { stdin: valuesStdin(values) });
  if (res.exitCode !== 0) {
    // Values the chart refuses are a configuration error (exit 2), never a change set (exit 1).
    throw (
      refusedConfiguration(res.stderr, upgrade.valuesFiles) ??
      translateHelmError(res.stderr, helm.target, 'render the upgrade (server-side dry run)')
    );
  }
  try {
    return JSON.parse(res.stdout) as ReleaseDoc;
  } catch {
    throw translateHelmError('helm printed no release document', helm.target, 'render the upgrade');
  }
}

/** The difference between the installed release (undefined: none) and the one this deploy would make. */
export function releaseDiff(installed: ReleaseDoc | undefined, planned: ReleaseDoc): ManifestDiff {
  return diffManifests(installed ? releaseObjects(installed) : [], releaseObjects(planned));
}

/** A warning of a diff: a change the API server refuses, or pods that keep old settings. */
export interface DiffWarning {
  kind: string;
  name: string;
  field?: string;
  message: string;
  hint: string;
}

/** The warnings of a diff, each with what to do. */
export function diffWarnings(diff: ManifestDiff, namespace: string): DiffWarning[] {
  const out: DiffWarning[] = [];
  for (const c of diff.immutable) {
    for (const field of c.fields) {
      const hint =
        c.kind === 'StatefulSet'
          ? `delete the StatefulSet but keep its pods and volumes (kubectl delete statefulset ${c.name} -n ${namespace} --cascade=orphan), then ${npmRun('deploy')} recreates it with the new spec`
          : `delete the ${c.kind} (kubectl delete ${c.kind.toLowerCase()} ${c.name} -n ${namespace}), then ${npmRun('deploy')} recreates it`;
      out.push({
        kind: c.kind,
        name: c.name,
        field,
        message: `${c.kind} ${c.name}: ${field} would change, which Kubernetes refuses to update: the upgrade would fail`,
        hint,
      });
    }
  }
  for (const s of diff.stale) {
    const db = passwordChangeOf(diff, s);
    const reads = db ? s.reads.filter((r) => r !== `Secret ${db.secret}`) : s.reads;
    if (db) {
      // A restart would hand the new password to a database that keeps the one its volume holds.
      out.push({
        kind: s.kind,
        name: s.name,
        message: `${s.kind} ${s.name} reads Secret ${db.secret}, whose ${db.secretKey} would change: the ${db.db} database keeps the password its volume ${db.pvc} was initialised with, and restarting it changes none`,
        hint: `deploy first checks that the database accepts the password being deployed (db.password-drift) and stops before changing anything when it does not; to change the database's password as well: ${npmRun('reset-db-password', db.db, '--rotate')}`,
      });
    }
    if (reads.length === 0) continue;
    out.push({
      kind: s.kind,
      name: s.name,
      message: `${s.kind} ${s.name} reads ${reads.join(', ')}, which would change, but its pods would not restart: they keep the old values`,
      hint: `after the deploy: kubectl rollout restart ${s.kind.toLowerCase()}/${s.name} -n ${namespace}`,
    });
  }
  return out;
}

/** The database whose StatefulSet this is, when the password key of its own Secret would change. */
function passwordChangeOf(diff: ManifestDiff, s: StaleReader): DbInfo | undefined {
  const db = Object.values(DATABASES).find((d) => s.kind === 'StatefulSet' && d.statefulSet === s.name);
  if (!db || !s.reads.includes(`Secret ${db.secret}`)) return undefined;
  const secret = diff.objects.find((o) => o.kind === 'Secret' && o.name === db.secret);
  return secret?.keys?.some((k) => k.key === db.secretKey) ? db : undefined;
}

const SIGN: Record<ObjectChange['change'], string> = { added: '+', removed: '-', changed: '~' };

/** One line of an object change: field paths, or a Secret's keys (never values). */
export function objectLine(o: ObjectChange): string {
  const parts: string[] = [];
  if (o.change === 'changed' && o.fields?.length) parts.push(o.fields.join(', '));
  for (const change of ['added', 'removed', 'changed'] as const) {
    const keys = (o.keys ?? []).filter((k) => k.change === change).map((k) => k.key);
    if (keys.length > 0) parts.push(`keys ${change}: ${keys.join(', ')}`);
  }
  return `${SIGN[o.change]} ${o.kind} ${o.name}${parts.length ? `: ${parts.join('; ')}` : ''}`;
}

/** The lines of a roll: the workload, then each reason. */
export function rollLines(r: Roll): string[] {
  return [`${r.kind} ${r.name}`, ...r.reasons.map((x) => `  - ${x}`)];
}

/** The readable summary of a diff (objects, the workloads that roll, warnings). */
export function printDiff(
  log: Logger,
  diff: ManifestDiff,
  warnings: DiffWarning[],
  where: { release: string; namespace: string; revision: number | null },
): void {
  const rel = `release ${where.release}${where.revision !== null ? ` (revision ${where.revision})` : ''} in namespace ${where.namespace}`;
  if (!diff.changed) {
    log.success(`no change: ${rel} already has what this deploy would apply`);
    return;
  }
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  log.info(
    `${where.revision === null ? `release ${where.release} is not installed in namespace ${where.namespace}` : rel}: ${count(diff.objects.length, 'object')} would change, ${count(diff.rolls.length, 'workload')} would roll`,
  );
  for (const o of diff.objects) log.info(`  ${objectLine(o)}`);
  if (diff.rolls.length > 0) {
    log.info('Will roll (their pods are replaced):');
    for (const r of diff.rolls) for (const l of rollLines(r)) log.info(`  ${l}`);
  }
  for (const w of warnings) {
    log.warn(w.message);
    log.hint(w.hint);
  }
}

/** The document `deploy --diff --json` prints. */
export interface DiffDocument {
  ok: boolean;
  changed: boolean;
  release: string;
  namespace: string;
  context: string | null;
  /** the installed revision compared with (null: not installed) */
  revision: number | null;
  objects: ObjectChange[];
  rolls: Roll[];
  warnings: DiffWarning[];
  durationMs: number;
  failures: [];
}

/** The installed release as deploy starts from it: its latest revision, its status, manifest and values. */
export interface InstalledRelease {
  revision: number;
  status: string;
  /** the manifest helm stored with it */
  manifest: string;
  /** the user-supplied values (they hold secrets: memory only) */
  config: Values;
}

/**
 * Reads the installed release (undefined: not installed) with two light helm calls side by side:
 * the latest revision with its status and manifest (Helm.latest), and `helm get values`.
 */
export async function readInstalled(helm: Helm): Promise<InstalledRelease | undefined> {
  const values = helm.getValues(false);
  values.catch(() => undefined);
  const latest = await helm.latest();
  if (!latest) return undefined;
  return { ...latest, config: await values };
}

/**
 * The Deployments and StatefulSets of a stored release that the cluster no longer has (`Kind name`):
 * a workload deleted by hand, which an unchanged release would otherwise leave missing (an upgrade
 * creates it again). `live` is what the rollout watch listed.
 */
export function missingWorkloads(
  stored: ReleaseDoc,
  live: readonly { kind: string; name: string }[],
): string[] {
  const have = new Set(live.map((w) => `${w.kind} ${w.name}`));
  return parseManifest(stored.manifest ?? '')
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => `${o.kind} ${o.name}`)
    .filter((w) => !have.has(w));
}

/** The installed release as the comparison reads it: the manifest helm stored, and its values. */
export function storedRelease(installed: InstalledRelease): ReleaseDoc {
  return { manifest: installed.manifest, config: installed.config };
}

/**
 * On a terminal without --yes, an upgrade that replaces pods is asked for first (the changes were just
 * printed); without a terminal (CI) the deploy goes on as before.
 */
export async function confirmRolls(
  ctx: Pick<CommandContext, 'stdin' | 'invocation'>,
  yes: boolean,
  diff: ManifestDiff,
): Promise<void> {
  if (yes || !ctx.stdin.isTTY || diff.rolls.length === 0) return;
  const n = diff.rolls.length;
  await confirm(
    { yes: false, stdin: ctx.stdin, prompt: process.stderr },
    `Upgrade now? ${n} workload${n === 1 ? '' : 's'} would roll.`,
    'the upgrade replaces pods',
    `${npmRun('deploy', ...(ctx.invocation?.argv ?? []), '--yes')}`,
    { refused: 'not confirmed: nothing was changed' },
  );
}
