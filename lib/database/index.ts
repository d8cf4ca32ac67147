import path from 'node:path';
import type { CommandContext } from '../cli.ts';
import { type ConfirmIo, assertCanConfirm } from '../confirm.ts';
import { assertSessionMayWrite, openSession } from '../context.ts';
import { runBackup } from './backup.ts';
import { runList } from './list.ts';
import { checkRestoreFile, restoreQuestion, runRestore } from './restore.ts';
import { parseDbOptions } from './spec.ts';

/** `npm run db -- <backup|list|restore> ...`. */
export async function runDb(ctx: CommandContext): Promise<number> {
  const opts = parseDbOptions(ctx.args.positionals, ctx.args.values);
  if (opts.action === 'list') return runList({ log: ctx.log, stdout: ctx.stdout }, opts);
  if (opts.action === 'backup') {
    const s = await openSession(ctx);
    return runBackup(
      { kubectl: s.kubectl, release: s.target.release, log: ctx.log, stdout: ctx.stdout },
      opts,
    );
  }
  const db = opts.dbs[0] ?? 'api';
  const file = path.resolve(opts.file ?? '');
  // Before any cluster call: the file is checked here, and a restore without a terminal needs --yes.
  const meta = await checkRestoreFile(file, db);
  const confirmIo: ConfirmIo = {
    yes: opts.yes,
    stdin: ctx.stdin,
    prompt: opts.json ? process.stderr : ctx.stdout,
  };
  const [, what, retry] = restoreQuestion(db, file, meta, opts.backupFirst);
  assertCanConfirm(confirmIo, what, retry);
  const s = await openSession(ctx);
  return runRestore(
    {
      kubectl: s.kubectl,
      release: s.target.release,
      log: ctx.log,
      stdout: ctx.stdout,
      signal: ctx.signal,
      confirmIo,
      mayWrite: async (w) => {
        await assertSessionMayWrite(ctx, s, { yes: opts.yes, prompt: confirmIo.prompt }, { what: w });
      },
    },
    { ...opts, file },
    meta,
  );
}
