import path from 'node:path';
import {
  AUTH_SECRET_LOCATION,
  authSecretProblem,
  readReleaseAuthSecret,
  readSigningKeys,
  removeSigningKeys,
  secretOpensKey,
} from '../auth-secret.ts';
import type { CommandContext } from '../cli.ts';
import { APP } from '../components.ts';
import { type ConfirmIo, assertCanConfirm, confirm } from '../confirm.ts';
import { CHART_PATH, type ClusterSession, assertSessionMayWrite, openSession } from '../context.ts';
import { backupSsoFirst } from '../db-backup.ts';
import { upsertEnvFile } from '../envfile.ts';
import { ExitCode, OperationError, UsageError } from '../errors.ts';
import { printJson } from '../log.ts';
import { registerSecrets } from '../redact.ts';
import { restartDeployment } from '../rollout.ts';
import { type Secret, generateSecret } from '../secrets.ts';
import { namespaceArgs, npmRun } from '../suggest.ts';
import { getPath } from '../values.ts';
import { type ResetAuthOptions, parseResetAuthOptions } from './spec.ts';

const KEY = 'BETTER_AUTH_SECRET';

/** `npm run reset-auth-secret -- [--keep|--rotate]`. */
export async function runResetAuthSecret(ctx: CommandContext): Promise<number> {
  const opts = parseResetAuthOptions(ctx.args.values);
  const io: ConfirmIo = { yes: opts.yes, stdin: ctx.stdin, prompt: opts.json ? process.stderr : ctx.stdout };
  const what =
    '--rotate changes BETTER_AUTH_SECRET: every user signs in again, every token issued before stops verifying';
  const retry = npmRun('reset-auth-secret', '--rotate', '--yes');
  // Before any cluster call: a rotation without a terminal needs --yes.
  if (opts.mode === 'rotate') assertCanConfirm(io, what, retry);
  const s = await openSession(ctx);
  if (opts.mode !== 'check')
    await assertSessionMayWrite(
      ctx,
      s,
      { yes: opts.yes, prompt: io.prompt },
      opts.mode === 'rotate' ? { what } : undefined,
    );
  const { kubectl, helm } = s;
  await kubectl.assertReachable();
  await helm.assertInstalled();
  const values = await helm.getValues(true);
  const theirs = getPath(values, 'sso.existingSecret');
  if (typeof theirs === 'string' && theirs !== '') {
    throw new UsageError(
      `release ${s.target.release} reads BETTER_AUTH_SECRET from your own Secret ${theirs} (sso.existingSecret): this command does not change it`,
      {
        hint: `to rotate, put a new value in Secret ${theirs}, remove the signing keys and sessions of the SSO database, and restart the SSO: kubectl rollout restart deployment/${APP.sso.name} -n ${s.target.namespace}`,
      },
    );
  }
  const released = await readReleaseAuthSecret(kubectl);
  if (released === undefined) {
    throw new OperationError(
      `Secret ${AUTH_SECRET_LOCATION.secret} (key ${KEY}) not found in namespace ${s.target.namespace}`,
      { hint: `deploy the release first: ${npmRun('deploy', ...namespaceArgs(s.target.namespace))}` },
    );
  }
  const own = s.settings.sso.authSecret;
  const envFile = path.relative(process.cwd(), s.envFile.path) || s.envFile.path;
  const inShell = s.settings.sources[KEY] === 'process-env';
  if (opts.mode === 'keep') return keep(ctx, s, opts, released, envFile, inShell);
  if (opts.mode === 'rotate') {
    await confirm(
      io,
      `Rotate BETTER_AUTH_SECRET of release ${s.target.release}? Every user signs in again and every token issued before stops verifying.`,
      what,
      retry,
    );
    return rotate(ctx, s, opts, { released, own, envFile, inShell });
  }
  return check(ctx, s, opts, { released, own, envFile });
}

/** Where the env file, the release and the SSO's signing key stand; exit 1 when a deploy would refuse. */
async function check(
  ctx: CommandContext,
  s: ClusterSession,
  opts: ResetAuthOptions,
  x: { released: Secret; own: Secret | undefined; envFile: string },
): Promise<number> {
  const { log } = ctx;
  const keys = await readSigningKeys(s.kubectl);
  const wanted = x.own ?? x.released;
  const same = wanted.equals(x.released);
  const problem = authSecretProblem({ wanted, released: x.released, envFile: x.envFile, ...s.target }, keys);
  const current = 'count' in keys ? keys.current : undefined;
  const opens =
    current === undefined
      ? undefined
      : {
          release: secretOpensKey(current, x.released),
          envFile: x.own ? secretOpensKey(current, x.own) : null,
        };
  // Said only when nothing is refused: then the release's secret decrypts the key in use, if any.
  const keyState =
    'unknown' in keys
      ? `the SSO's signing keys could not be read (${keys.unknown})`
      : current === undefined
        ? 'the SSO database holds no signing key in use (the SSO makes one under the secret it runs with)'
        : "it decrypts the SSO's signing key";
  if (problem) {
    log.error(problem.message);
    log.hint(problem.hint);
  } else if (x.own === undefined)
    log.success(
      `${x.envFile} sets no ${KEY}: deploy keeps the release's (Secret ${AUTH_SECRET_LOCATION.secret}); ${keyState}`,
    );
  else if (same) log.success(`${KEY} in ${x.envFile} is the release's; ${keyState}`);
  else if (current !== undefined)
    log.success(
      `${KEY} in ${x.envFile} is not the release's, but the SSO's signing key was made under it (a restored backup?): a deploy gives it to the release; users signed in under the release's sign in again`,
    );
  else
    log.warn(
      `${KEY} in ${x.envFile} is not the release's; the SSO database holds no signing key, so a deploy only makes every user sign in again`,
    );
  if (opts.json)
    printJson(
      {
        ok: !problem,
        release: s.target.release,
        namespace: s.target.namespace,
        mode: 'check',
        status: x.own === undefined ? 'not-set' : same ? 'same' : 'differs',
        signingKeys: 'count' in keys ? keys.count : null,
        currentKeyDecrypts: opens ?? null,
      },
      ctx.stdout,
    );
  return problem ? ExitCode.Failed : ExitCode.Ok;
}

async function keep(
  ctx: CommandContext,
  s: ClusterSession,
  opts: ResetAuthOptions,
  released: Secret,
  envFile: string,
  inShell: boolean,
): Promise<number> {
  const keys = await readSigningKeys(s.kubectl);
  upsertEnvFile(s.envFile.path, { [KEY]: released.reveal() });
  ctx.log.success(
    `${KEY} in ${envFile} is now the release's (Secret ${AUTH_SECRET_LOCATION.secret}); the cluster was not changed`,
  );
  const problem = authSecretProblem({ wanted: released, released, envFile, ...s.target }, keys);
  if (problem) {
    ctx.log.warn(problem.message);
    ctx.log.hint(problem.hint);
  }
  if (inShell)
    ctx.log.warn(
      `${KEY} is also set in your shell, which wins over ${envFile}: unset it before the next deploy`,
    );
  if (opts.json)
    printJson(
      { ok: true, release: s.target.release, namespace: s.target.namespace, mode: 'keep', envFile },
      ctx.stdout,
    );
  return ExitCode.Ok;
}

async function rotate(
  ctx: CommandContext,
  s: ClusterSession,
  opts: ResetAuthOptions,
  x: { released: Secret; own: Secret | undefined; envFile: string; inShell: boolean },
): Promise<number> {
  const { kubectl, helm } = s;
  const { log } = ctx;
  // The env file's when it is a new one (the change the user meant), else a new random one.
  const fresh = x.own && x.own.reveal() !== x.released.reveal() ? x.own : generateSecret(32);
  registerSecrets(fresh);
  const backup = await backupSsoFirst(kubectl, s.target.release, log, {
    failedHint: `nothing was changed; see what is wrong: ${npmRun('doctor')}`,
    noVolume: {
      reason: 'its keys cannot be removed from here',
      hint: 'set the new secret with npm run deploy, then on the database server: DELETE FROM jwks; DELETE FROM session;',
    },
  });
  log.step(`storing the new ${KEY} in release ${s.target.release} (sso.auth.secret, other values kept)`);
  await helm.upgrade({ sso: { auth: { secret: fresh } } }, { chart: CHART_PATH, reuseValues: true });
  if (!x.inShell) upsertEnvFile(s.envFile.path, { [KEY]: fresh.reveal() });
  log.step(`restarting deployment/${APP.sso.name} with it`);
  const deadline = Date.now() + opts.timeoutMs;
  const restart = await restartDeployment(kubectl, APP.sso.name, {
    deadline,
    timeoutText: opts.timeoutText,
    signal: ctx.signal,
    onLine: (l) => log.info(l),
  });
  if (!restart.ok) {
    throw new OperationError(
      `the SSO did not become ready with the new secret: ${restart.reason ?? 'see its logs'}; the old signing keys are still there`,
      {
        hint: `see why: ${npmRun('doctor')}; then finish with: ${npmRun('reset-auth-secret', '--rotate', '--yes')}`,
      },
    );
  }
  // Only now: every SSO pod runs the new secret, so no key can be made under the old one any more.
  log.step('removing the signing keys and sessions the new secret cannot use (table jwks, session)');
  await removeSigningKeys(kubectl);
  log.success(
    `BETTER_AUTH_SECRET rotated: release ${s.target.release}${x.inShell ? '' : ` and ${x.envFile}`} hold the new one; the SSO makes a new signing key on its next token`,
  );
  log.warn('every user signs in again, and every token issued before stops verifying');
  if (x.inShell) log.warn(`${KEY} is set in your shell with the old value: unset it before the next deploy`);
  log.hint(
    `restore the database of before with: ${npmRun('db', 'restore', backup.file)} (it needs the old secret)`,
  );
  if (opts.json)
    printJson(
      {
        ok: true,
        release: s.target.release,
        namespace: s.target.namespace,
        mode: 'rotate',
        backup: backup.file,
        envFile: x.inShell ? 'process-env' : 'updated',
      },
      ctx.stdout,
    );
  return ExitCode.Ok;
}
