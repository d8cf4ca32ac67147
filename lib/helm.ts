import { stringify } from 'yaml';
import { NotReadyError, OperationError, type TaskflowError, UsageError } from './errors.ts';
import type { RunOptions, RunResult, Runner } from './exec.ts';
import { type KubeTarget, translateKubectlError } from './kubectl.ts';
import { redact } from './redact.ts';
import { Secret } from './secrets.ts';
import { npmRun } from './suggest.ts';
import { CHART_VALUE_PATHS } from './settings-values.ts';
import { readableSchemaErrors } from './schema-errors.ts';

export interface HelmTarget extends KubeTarget {
  release: string;
}

export interface UpgradeOptions {
  chart: string;
  /** Values files given by the user (-f), applied after the generated values so they win. */
  valuesFiles?: string[];
  createNamespace?: boolean;
  /** Let helm wait (add-ons use it; deploy watches the rollout itself). */
  wait?: boolean;
  timeout?: string;
  /** Roll back when the upgrade fails: `--rollback-on-failure` on helm 4, `--atomic` on helm 3. */
  rollbackOnFailure?: boolean;
  /** Keep the release's current values and merge these over them. */
  reuseValues?: boolean;
  dryRun?: 'server' | 'client';
}

/** Arguments common to every helm call of a target. */
export function helmTargetArgs(target: KubeTarget): string[] {
  const out = ['--namespace', target.namespace];
  if (target.context) out.push('--kube-context', target.context);
  return out;
}

/**
 * argv of `helm upgrade --install` (pure). Generated values always come on stdin
 * (`-f -`); nothing secret is ever put in argv.
 */
export function helmUpgradeArgs(
  bin: string,
  helmMajor: number,
  target: HelmTarget,
  opts: UpgradeOptions,
): string[] {
  const args = [
    bin,
    'upgrade',
    target.release,
    opts.chart,
    '--install',
    ...helmTargetArgs(target),
    '-f',
    '-',
  ];
  for (const f of opts.valuesFiles ?? []) args.push('-f', f);
  if (opts.createNamespace) args.push('--create-namespace');
  if (opts.reuseValues) args.push(helmMajor >= 4 ? '--reset-then-reuse-values' : '--reuse-values');
  if (opts.wait) args.push(helmMajor >= 4 ? '--wait=watcher' : '--wait');
  if (opts.timeout) args.push('--timeout', opts.timeout);
  if (opts.rollbackOnFailure) args.push(helmMajor >= 4 ? '--rollback-on-failure' : '--atomic');
  if (opts.dryRun) args.push(`--dry-run=${opts.dryRun}`);
  return args;
}

/** The revision `helm upgrade` printed (`REVISION: 4`), or undefined. */
export function revisionOf(output: string): number | undefined {
  const m = /^REVISION:\s*(\d+)/m.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** How every command says that a release is missing. */
export function notInstalled(target: HelmTarget): string {
  return `release "${target.release}" is not installed in namespace "${target.namespace}"`;
}

/**
 * The env keys behind the chart values a helm message names (helm 4: `at '/sso/smtp/port'`, helm 3:
 * `sso.smtp.port:`): a value the key sets, or an object holding one (`/api/database`).
 */
export function envKeysIn(text: string): string[] {
  const paths = [
    ...[...text.matchAll(/at '(\/[\w/-]+)'/g)].map((m) => (m[1] ?? '').slice(1).replace(/\//g, '.')),
    ...[...text.matchAll(/(?:^|\s)([a-zA-Z]\w*(?:\.\w+)+):/gm)].map((m) => m[1] ?? ''),
  ].filter((p) => p.split('.').length >= 2);
  return Object.entries(CHART_VALUE_PATHS)
    .filter(([, values]) => values.some((v) => paths.some((p) => v === p || v.startsWith(`${p}.`))))
    .map(([key]) => key);
}

/** Whether helm refused because another operation holds the release (its own pending-* lock). */
export function helmBusy(stderr: string): boolean {
  return /another operation \(install\/upgrade\/rollback\) is in progress/i.test(stderr);
}

/**
 * Turns helm's stderr into an error with the next step. `otherWriter`, for helm's "another operation is
 * in progress": the command of this suite holding the release's lock (lib/release-lock.ts), null when
 * none does (checked), undefined when not known; a rollback is advised only when checked that none does.
 */
export function translateHelmError(
  stderr: string,
  target: HelmTarget,
  what: string,
  otherWriter?: string | null,
): TaskflowError {
  const text = redact(stderr.trim());
  const first = (text.split('\n').find((l) => l.trim()) ?? 'helm failed').replace(/^Error: /, '');
  const ns = target.namespace;
  if (helmBusy(text)) {
    if (otherWriter) {
      return new OperationError(
        `release "${target.release}" is being changed by another writing command: ${otherWriter}`,
        { hint: 'wait for it to finish, then run this command again' },
      );
    }
    if (otherWriter === null) {
      return new OperationError(
        `release "${target.release}" is locked by a helm operation from outside this suite (no command of the suite holds the release)`,
        {
          hint: `wait for it to finish; if it was interrupted, see npm run doctor, then: helm rollback ${target.release} -n ${ns}`,
        },
      );
    }
    return new OperationError(`release "${target.release}" is locked by another helm operation`, {
      hint: `wait for it to finish, then run this command again (${npmRun('doctor', '-n', ns)} shows the release's state)`,
    });
  }
  if (/has no deployed releases/i.test(text)) {
    return new OperationError(
      `release "${target.release}" has no successful revision (its first install failed)`,
      {
        hint: `inspect with ${npmRun('doctor', '-n', ns)}; then run npm run deploy again (or helm uninstall ${target.release} -n ${ns}, which keeps the database volumes)`,
      },
    );
  }
  if (/release: not found|release not found/i.test(text)) {
    return new OperationError(`release "${target.release}" is not deployed in namespace "${ns}"`, {
      hint: `deploy it first: npm run deploy (or pass -n/--release for another one)`,
    });
  }
  if (/Kubernetes cluster unreachable/i.test(text)) {
    const k = translateKubectlError(text, target, what);
    return k instanceof NotReadyError
      ? k
      : new NotReadyError(`cannot reach the cluster: ${first}`, { hint: k.hint });
  }
  if (
    /execution error at|values don't meet the specifications of the schema|values\.schema\.json/i.test(text)
  ) {
    const keys = envKeysIn(text);
    const from = keys.length > 0 ? `\n(set from the env file by ${keys.join(', ')})` : '';
    // A configuration error (exit 2), told without helm's "UPGRADE FAILED:" (nothing was changed).
    const said = readableSchemaErrors(
      text.replace(/^Error: /, '').replace(/^(UPGRADE|INSTALLATION) FAILED: /, ''),
    );
    return new UsageError(
      `the chart rejected its values:
${said}${from}`,
      {
        hint:
          keys.length > 0
            ? `fix ${keys.join(', ')} in the env file (npm run validate lists every problem)`
            : 'fix the values named above (npm run validate lists every problem)',
      },
    );
  }
  const k = translateKubectlError(text, target, what);
  if (k instanceof NotReadyError) return k;
  return new OperationError(`helm failed to ${what}: ${first}`);
}

/**
 * Values as helm reads them from stdin: the one place their `Secret` leaves are revealed, into a Secret
 * the runner writes to the child's stdin (and masks in anything printed).
 */
export function valuesStdin(values: unknown): Secret {
  return new Secret(stringify(values, (_k, v: unknown) => (v instanceof Secret ? v.reveal() : v)));
}

export interface ReleaseStatus {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; description?: string; last_deployed?: string; notes?: string };
}

/** helm helpers over the runner for one release. */
export class Helm {
  constructor(
    readonly runner: Runner,
    readonly bin: string,
    readonly major: number,
    readonly target: HelmTarget,
  ) {}

  /** Who else of this suite writes to the release (set once the release lock is held): see translateHelmError. */
  otherWriter?: () => Promise<string | null | undefined>;

  /** The full argv of a helm call (pure). */
  argv(args: readonly string[]): string[] {
    return [this.bin, ...args];
  }

  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.runner.run(this.argv(args), opts);
  }

  /** `helm upgrade --install` with the values on stdin; returns helm's stdout. */
  async upgrade(values: unknown, opts: UpgradeOptions): Promise<string> {
    const argv = helmUpgradeArgs(this.bin, this.major, this.target, opts);
    const res = await this.runner.run(argv, { stdin: valuesStdin(values) });
    if (res.exitCode !== 0) {
      const other = helmBusy(res.stderr) ? await this.otherWriter?.().catch(() => undefined) : undefined;
      throw translateHelmError(res.stderr, this.target, 'upgrade the release', other);
    }
    return res.stdout;
  }

  /** Throws (exit 1, naming `npm run deploy`) unless the release is installed: the one answer every command gives. */
  async assertInstalled(): Promise<ReleaseStatus> {
    const status = await this.status();
    if (status) return status;
    throw new OperationError(notInstalled(this.target), {
      hint: 'run npm run deploy first (or pass -n NAMESPACE / --release NAME for another one)',
    });
  }

  /** The release's status, or undefined when it is not installed. */
  async status(): Promise<ReleaseStatus | undefined> {
    const res = await this.run(statusArgs(this.target));
    if (res.exitCode !== 0) {
      if (/not found/i.test(res.stderr)) return undefined;
      throw translateHelmError(res.stderr, this.target, 'read the release status');
    }
    return JSON.parse(res.stdout) as ReleaseStatus;
  }

  /**
   * The release's latest revision, its status and the manifest helm stored with it, in one light call
   * (`helm get all --template`: no resources listed, unlike `helm status` on helm 4), or undefined
   * when it is not installed.
   */
  async latest(): Promise<{ revision: number; status: string; manifest: string } | undefined> {
    const res = await this.run(latestArgs(this.target));
    if (res.exitCode !== 0) {
      if (/not found/i.test(res.stderr)) return undefined;
      throw translateHelmError(res.stderr, this.target, 'read the release');
    }
    const nl = res.stdout.indexOf('\n');
    const m = /^(\d+) (\S+)$/.exec(nl < 0 ? res.stdout : res.stdout.slice(0, nl));
    if (!m) throw translateHelmError('helm printed no revision', this.target, 'read the release');
    return {
      revision: Number(m[1]),
      status: m[2] ?? 'unknown',
      manifest: nl < 0 ? '' : res.stdout.slice(nl + 1),
    };
  }

  /** The release's values (all computed values with `all`); they contain secrets: keep them in memory. */
  async getValues(all = true): Promise<Record<string, unknown>> {
    const res = await this.run(valuesArgs(this.target, all));
    if (res.exitCode !== 0) throw translateHelmError(res.stderr, this.target, 'read the release values');
    const doc = (JSON.parse(res.stdout || '{}') ?? {}) as Record<string, unknown>;
    return doc;
  }

  /** Removes the release (resource-policy keep Secrets and PVCs stay). */
  async uninstall(): Promise<void> {
    const res = await this.run(uninstallArgs(this.target));
    if (res.exitCode !== 0 && !/not found/i.test(res.stderr)) {
      throw translateHelmError(res.stderr, this.target, 'uninstall the release');
    }
  }
}

/**
 * helm arguments that print the release's latest revision and status on a first line (`4 deployed`),
 * then its manifest. The template's fields are helm's release record, the same in helm 3 and 4.
 */
export function latestArgs(target: KubeTarget & { release: string }): string[] {
  return [
    'get',
    'all',
    target.release,
    ...helmTargetArgs(target),
    '--template',
    '{{printf "%d %s\\n" .Release.Version .Release.Info.Status}}{{.Release.Manifest}}',
  ];
}

/** helm arguments that read the release's user-supplied values (all computed values with `all`) as JSON. */
export function valuesArgs(target: KubeTarget & { release: string }, all: boolean): string[] {
  return [
    'get',
    'values',
    target.release,
    ...helmTargetArgs(target),
    '-o',
    'json',
    ...(all ? ['--all'] : []),
  ];
}

/** helm arguments that read the release's status as JSON. */
export function statusArgs(target: KubeTarget & { release: string }): string[] {
  return ['status', target.release, ...helmTargetArgs(target), '-o', 'json'];
}

/** helm arguments that uninstall the release and wait for its objects to go. */
export function uninstallArgs(target: KubeTarget & { release: string }): string[] {
  return ['uninstall', target.release, ...helmTargetArgs(target), '--wait'];
}
