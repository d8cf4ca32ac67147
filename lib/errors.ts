/** Exit codes of the CLI contract (shared/spec cli.md). */
export enum ExitCode {
  Ok = 0,
  Failed = 1,
  Usage = 2,
  NotReady = 3,
  Interrupted = 130,
}

export interface ErrorOptions {
  /** The next thing the user should do, e.g. a command to run. */
  hint?: string;
  cause?: unknown;
  /** Fields of the command's --json document that still apply when it fails (printed beside `error`). */
  report?: Record<string, unknown>;
}

/** Base of every error the suite throws on purpose: a message, a hint and an exit code. */
export class TaskflowError extends Error {
  readonly hint: string | undefined;
  readonly report: Record<string, unknown> | undefined;
  readonly exitCode: ExitCode = ExitCode.Failed;
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.report = opts.report;
  }
}

/** Bad option, bad argument, invalid settings file: exit 2. */
export class UsageError extends TaskflowError {
  override readonly exitCode = ExitCode.Usage;
}

/** The operation failed (a rollout, a migration, a check): exit 1. */
export class OperationError extends TaskflowError {
  override readonly exitCode = ExitCode.Failed;
}

/** Tools missing, cluster unreachable: exit 3. */
export class NotReadyError extends TaskflowError {
  override readonly exitCode = ExitCode.NotReady;
}

/** The user pressed Ctrl+C (or a SIGTERM arrived): exit 130. */
export class InterruptedError extends TaskflowError {
  override readonly exitCode = ExitCode.Interrupted;
}

/** Exit code for anything thrown: ours carry one, anything else is a plain failure. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof TaskflowError ? err.exitCode : ExitCode.Failed;
}
