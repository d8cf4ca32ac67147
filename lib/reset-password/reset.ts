import type { CommandContext } from '../cli.ts';
import { DATABASES } from '../components.ts';
import { CHART_PATH, assertSessionMayWrite, openSession } from '../context.ts';
import { ExitCode, UsageError } from '../errors.ts';
import type { Helm } from '../helm.ts';
import type { Kubectl } from '../kubectl.ts';
import { type Logger, printJson } from '../log.ts';
import type { Secret } from '../secrets.ts';
import { restartConsumers, staleUrls } from './consumers.ts';
import {
  type DbTarget,
  assertInCluster,
  assertPodRunning,
  compareWithDatabase,
  readSecretPassword,
  resolveDbTarget,
  setRolePassword,
} from './database.ts';
import { type EnvFileState, rotatePassword } from './rotate.ts';
import { type ResetOptions, parseResetOptions } from './spec.ts';
import { verifyPassword } from './verify.ts';
import { type ConfirmIo, assertCanConfirm, confirm } from '../confirm.ts';
import { npmRun } from '../suggest.ts';

/** What the command works with (tests build it around a fake runner). */
export interface ResetDeps {
  kubectl: Kubectl;
  helm: Helm;
  log: Logger;
  stdout: NodeJS.WritableStream;
  signal: AbortSignal;
  confirmIo: ConfirmIo;
  envFile: EnvFileState;
  /** the kube context acted on, for --json */
  context?: string | null;
  chart?: string;
  generate?: () => Secret;
}

/** `npm run reset-db-password -- <sso|api> [--check|--rotate]`. */
export async function runResetPassword(ctx: CommandContext): Promise<number> {
  const opts = parseResetOptions(ctx.args.positionals, ctx.args.values);
  const confirmIo: ConfirmIo = {
    yes: opts.yes,
    stdin: ctx.stdin,
    prompt: opts.json ? process.stderr : ctx.stdout,
  };
  // Before any cluster call: a rotation without a terminal needs --yes.
  if (opts.mode === 'rotate') {
    const [, what, retry] = rotateQuestion(opts);
    assertCanConfirm(confirmIo, what, retry);
  }
  const s = await openSession(ctx);
  if (opts.mode !== 'check') {
    await assertSessionMayWrite(
      ctx,
      s,
      { yes: opts.yes, prompt: confirmIo.prompt },
      opts.mode === 'rotate' ? { what: rotateQuestion(opts)[1] } : undefined,
    );
  }
  const key = DATABASES[opts.db].envKey;
  const source = s.settings.sources[key];
  return resetPassword(
    {
      kubectl: s.kubectl,
      helm: s.helm,
      log: ctx.log,
      stdout: ctx.stdout,
      signal: ctx.signal,
      confirmIo,
      context: s.place.context,
      envFile: {
        path: s.envFile.path,
        holder: source === 'process-env' ? 'process-env' : s.envFile.entries.has(key) ? 'file' : 'none',
      },
    },
    opts,
  );
}

function rotateQuestion(opts: ResetOptions): [question: string, what: string, retry: string] {
  const info = DATABASES[opts.db];
  return [
    `Rotate the password of the ${opts.db} database (role ${info.user})? ${info.consumers.join(', ')} will restart.`,
    `--rotate changes the ${opts.db} database password and restarts ${info.consumers.join(', ')}`,
    npmRun('reset-db-password', opts.db, '--rotate', '--yes'),
  ];
}

/** Checks the release and the database pod, then checks, syncs or rotates. Returns the exit code. */
export async function resetPassword(deps: ResetDeps, opts: ResetOptions): Promise<number> {
  const { kubectl, helm, log } = deps;
  await kubectl.assertReachable();
  await helm.assertInstalled();
  const t = await resolveDbTarget(helm, DATABASES[opts.db]);
  assertInCluster(t);
  if (opts.mode === 'rotate' && t.existingSecret) {
    throw new UsageError(
      `--rotate cannot change Secret ${t.secret}: the release reads the ${opts.db} password from your own Secret (${opts.db}.database.existingSecret)`,
      {
        hint: `put a new password in Secret ${t.secret} yourself (hex is safe everywhere: openssl rand -hex 16 > FILE; kubectl create secret generic ${t.secret} -n ${kubectl.target.namespace} --from-file=${t.secretKey}=FILE --dry-run=client -o yaml | kubectl apply -f -), then run: ${npmRun('reset-db-password', opts.db)} (the database takes it)`,
      },
    );
  }
  await assertPodRunning(kubectl, t.info);
  if (opts.mode === 'check') return check(deps, t, opts);
  if (opts.mode === 'sync') return sync(deps, t, opts);
  const [question, what, retry] = rotateQuestion(opts);
  await confirm(deps.confirmIo, question, what, retry);
  const deadline = Date.now() + opts.timeoutMs;
  const res = await rotatePassword(
    {
      ...deps,
      chart: deps.chart ?? CHART_PATH,
      deadline,
      timeoutText: opts.timeoutText,
    },
    t,
  );
  log.success(
    `the ${opts.db} password was rotated: the database, Secret ${t.secret}${res.envFile === 'updated' ? `, ${deps.envFile.path}` : ''} and the restarted workloads agree`,
  );
  log.hint(
    `read it with: kubectl get secret ${t.secret} -n ${kubectl.target.namespace} -o jsonpath='{.data.${t.secretKey}}' | base64 -d`,
  );
  if (opts.json) {
    printJson(
      { ok: true, ...where(deps), db: opts.db, mode: 'rotate', status: 'in-sync', changed: true, ...res },
      deps.stdout,
    );
  }
  return ExitCode.Ok;
}

async function check(deps: ResetDeps, t: DbTarget, opts: ResetOptions): Promise<number> {
  const { kubectl, log } = deps;
  const password = await readSecretPassword(kubectl, t);
  const a = await compareWithDatabase(kubectl, t, password);
  const stale = await staleUrls(kubectl, t, password);
  if (a.status === 'in-sync')
    log.success(`the ${t.info.db} database and Secret ${t.secret} agree: ${a.detail}`);
  else if (a.status === 'out-of-sync')
    log.error(`the ${t.info.db} database and Secret ${t.secret} disagree: ${a.detail}`);
  else log.warn(`cannot tell whether the ${t.info.db} database and Secret ${t.secret} agree: ${a.detail}`);
  if (a.status !== 'in-sync')
    log.hint(`make the database take the Secret's password: ${npmRun('reset-db-password', t.info.db)}`);
  warnStale(log, stale, t);
  if (opts.json) {
    printJson(
      {
        ok: a.status === 'in-sync',
        ...where(deps),
        db: t.info.db,
        status: a.status,
        detail: a.detail,
        staleUrls: stale,
      },
      deps.stdout,
    );
  }
  return a.status === 'in-sync' ? ExitCode.Ok : ExitCode.Failed;
}

async function sync(deps: ResetDeps, t: DbTarget, opts: ResetOptions): Promise<number> {
  const { kubectl, log } = deps;
  const password = await readSecretPassword(kubectl, t);
  const before = await compareWithDatabase(kubectl, t, password);
  let restarted: string[] = [];
  const changed = before.status !== 'in-sync';
  if (!changed) {
    log.success(
      `the ${t.info.db} database already has the password of Secret ${t.secret}: nothing to change`,
    );
  } else {
    log.step(
      `setting the password of role "${t.user}" in ${t.info.pod} to the one in Secret ${t.secret} (data untouched)`,
    );
    await setRolePassword(kubectl, t, password);
    const deadline = Date.now() + opts.timeoutMs;
    restarted = await restartConsumers(kubectl, t, {
      deadline,
      timeoutText: opts.timeoutText,
      signal: deps.signal,
      log,
    });
    await verifyPassword(kubectl, t, password);
    log.success(
      `the ${t.info.db} database now takes the password of Secret ${t.secret}; a login with it works`,
    );
  }
  warnStale(log, await staleUrls(kubectl, t, password), t);
  if (opts.json) {
    printJson(
      { ok: true, ...where(deps), db: t.info.db, mode: 'sync', status: 'in-sync', changed, restarted },
      deps.stdout,
    );
  }
  return ExitCode.Ok;
}

/** Where the command acted, for --json. */
function where(deps: ResetDeps): { context: string | null; namespace: string } {
  return { context: deps.context ?? null, namespace: deps.kubectl.target.namespace };
}

function warnStale(log: Logger, stale: string[], t: DbTarget): void {
  if (stale.length === 0) return;
  log.warn(
    `${stale.join(', ')} carries another password than Secret ${t.secret}: the applications will keep failing to log in`,
  );
  log.hint('re-render the connection URLs from the Secret: npm run deploy');
}
