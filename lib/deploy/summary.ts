import { type Script, npmRun } from '../suggest.ts';
import type { Logger } from '../log.ts';
import type { SettingSource } from '../env.ts';
import { SECRET_LOCATIONS, type SecretKey } from '../secret-resolution.ts';
import type { ExistingSecretRef } from '../existing-secrets.ts';
import { type DeployReport, type ReportFailure, failureImage, groupFailures } from './report.ts';

/**
 * Prints failures the way a user reads them: what, where, why, log tail, next step. Failures of one
 * cause (lib/deploy/report.ts groupFailures) are one block listing their objects.
 */
export function printFailures(log: Logger, failures: ReportFailure[]): void {
  for (const g of groupFailures(failures)) {
    const f = g.first;
    const where = (x: ReportFailure) =>
      [x.object, x.container ? `container ${x.container}` : ''].filter(Boolean).join(' ');
    const [message, ...rest] = f.detail.split('\n');
    if (g.members.length === 1) {
      log.error(`${f.id}: ${where(f) ? `${where(f)}: ` : ''}${f.reason}`);
      if (message) log.info(`  ${message}`);
    } else {
      const reasons = [...new Set(g.members.map((m) => m.reason))].join(', ');
      const what = g.members.every((m) => m.object?.startsWith('pod/')) ? 'pods' : 'objects';
      log.error(`${f.id}: ${g.members.length} ${what} fail the same way (${reasons}):`);
      for (const m of g.members) {
        const image = failureImage(m);
        log.info(`    ${where(m)}${image ? ` (${image})` : ''}`);
      }
      if (message) log.info(`  ${f.object ?? 'the first'}: ${message}`);
    }
    // A group's events repeat its message for each member: --json and npm run doctor keep them all.
    for (const line of rest.filter((l) => g.members.length === 1 && l.startsWith('events: '))) {
      log.info('  Warning events:');
      for (const e of line.slice('events: '.length).split('; ')) log.info(`    ${e}`);
    }
    if (f.logs) {
      log.info(g.members.length === 1 ? '  last log lines:' : '  last log lines (the same in each):');
      for (const l of f.logs.trimEnd().split('\n')) log.info(`    | ${l}`);
    }
    if (g.hint) log.hint(g.hint);
  }
}

/**
 * Where each secret really is, without its value: the Secret always; the env file only when the value
 * is in it (set there, or generated now and saved there). A value reused from the cluster or taken from
 * the process environment is in no file.
 */
export function secretLocations(
  envFile: string,
  namespace: string,
  sources?: Record<SecretKey, SettingSource>,
  existing: readonly ExistingSecretRef[] = [],
): string[] {
  return (Object.keys(SECRET_LOCATIONS) as SecretKey[]).map((k) => {
    const theirs = existing.find((r) => r.envKey === k);
    if (theirs)
      return `${k}: Secret ${theirs.secret} key ${theirs.key} in namespace ${namespace} (yours, named by ${theirs.valuePath})`;
    const { secret, key } = SECRET_LOCATIONS[k];
    const inSecret = `Secret ${secret} key ${key} in namespace ${namespace}`;
    const source = sources?.[k];
    switch (source) {
      case undefined:
      case 'env-file':
        return `${k}: ${envFile}; ${inSecret}`;
      case 'generated':
        return `${k}: ${envFile} (generated now and saved there); ${inSecret}`;
      case 'process-env':
        return `${k}: ${inSecret} (from the process environment; in no file)`;
      case 'cluster':
        return `${k}: ${inSecret} (kept from the cluster; not in ${envFile})`;
      default:
        return `${k}: ${inSecret} (${source})`;
    }
  });
}

/** The success summary: URLs, where the passwords are, the commands that come next. */
export function printSummary(
  log: Logger,
  report: DeployReport,
  opts: {
    envFile: string;
    access: 'port-forward' | 'ingress';
    sources?: Record<SecretKey, SettingSource>;
    /** the user's own Secrets the release reads (existingSecret) */
    existing?: readonly ExistingSecretRef[];
    pgadmin: boolean;
    /** Target options to repeat in the next commands, e.g. `['-n', 'dev']`. */ cli: string[];
  },
): void {
  const secs = (report.durationMs / 1000).toFixed(1);
  log.success(
    `TaskFlow is running: release ${report.release}, namespace ${report.namespace}, revision ${report.revision ?? '?'}${report.upgraded === false ? ' (unchanged: no upgrade was needed)' : ''} (${secs}s)`,
  );
  const width = Math.max(...report.services.map((s) => s.name.length), 4) + 2;
  log.info('');
  log.info(opts.access === 'port-forward' ? `URLs (after ${npmRun('port-forward', ...opts.cli)}):` : 'URLs:');
  for (const s of report.services)
    log.info(`  ${s.name.padEnd(width)}${s.url ?? '(no URL)'}${s.ready ? '' : '  (not ready)'}`);
  log.info('');
  log.info('Passwords (values are never printed):');
  for (const l of secretLocations(opts.envFile, report.namespace, opts.sources, opts.existing))
    log.info(`  ${l}`);
  if (opts.pgadmin) log.info(`  pgAdmin login: Secret pgadmin key password in namespace ${report.namespace}`);
  log.info('');
  log.info('Next:');
  const cmd = (name: Script, pos?: string): string => npmRun(name, pos, ...opts.cli);
  const next: [string, string][] = [];
  if (opts.access === 'port-forward') next.push([cmd('port-forward'), 'open the URLs above']);
  next.push([cmd('doctor'), 'diagnose the running release']);
  if (!opts.pgadmin) next.push([cmd('pgadmin'), 'add pgAdmin for both databases']);
  next.push([cmd('migrate', 'sso'), 'rerun the SSO migrations']);
  next.push([cmd('deploy'), 'redeploy after changing settings (keeps the data)']);
  const w = Math.max(...next.map(([c]) => c.length)) + 2;
  for (const [c, why] of next) log.info(`  ${c.padEnd(w)}# ${why}`);
}
