import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { OperationError, UsageError } from './errors.ts';
import type { Kubectl } from './kubectl.ts';
import { getOptionalArgs, translateKubectlError } from './kubectl.ts';
import { bootId, processStart } from './processes.ts';
import { abortableSleep } from './time.ts';

/**
 * One writing command per release at a time, across machines: a coordination.k8s.io Lease in the
 * release's namespace names its holder (command, host, pid, a random token) and is renewed while held.
 * Acquiring is a create (AlreadyExists: held) or, over a holder that is gone, a replace carrying the
 * resourceVersion just read, so two waiters cannot both take it. A holder is gone when its lease was
 * not renewed in time (any machine), or at once when it ran on this machine (same host and boot) and
 * its process no longer exists, or exists with another start time (the pid was reused).
 */

/** How long a lease lasts without renewal, and how often a holder renews it. */
export const LEASE_SECONDS = 30;
const RENEW_MS = 10_000;
const POLL_MS = 1_000;

/** The Lease of a release (one per release: two releases in a namespace lock apart). */
export function leaseName(release: string): string {
  return `taskflow-lock-${release}`;
}

const ANNOTATION = 'taskflow.dev/lock';

/** Who holds (or wants) the release: what `holderIdentity` and the lock annotation carry. */
export interface Holder {
  /** The command as a user names it: `deploy`, `db restore`, `addon mailpit`. */
  command: string;
  host: string;
  pid: number;
  token: string;
  /** This boot of the host (Linux), to tell a machine's processes from an earlier boot's. */
  boot?: string;
  /** When the process started (clock ticks since boot, Linux), to tell a reused pid. */
  started?: number;
}

/** `holderIdentity` of a lease: `<command>@<host>:<pid>:<token>` (readable in `kubectl get lease`). */
export function formatIdentity(h: Pick<Holder, 'command' | 'host' | 'pid' | 'token'>): string {
  return `${h.command}@${h.host}:${h.pid}:${h.token}`;
}

/** The holder a lease names; undefined for a released lease or one written by something else. */
export function parseIdentity(identity: string | undefined): Omit<Holder, 'boot' | 'started'> | undefined {
  const m = /^(.+)@([^@:\s]+):(\d+):([0-9a-f]+)$/.exec(identity ?? '');
  if (!m) return undefined;
  return { command: m[1] ?? '', host: m[2] ?? '', pid: Number(m[3]), token: m[4] ?? '' };
}

/** This process as a holder. */
export function thisHolder(command: string): Holder {
  const boot = bootId();
  const started = processStart(process.pid);
  return {
    command,
    host: os.hostname().split('.')[0] || 'localhost',
    pid: process.pid,
    token: randomBytes(8).toString('hex'),
    ...(boot && { boot }),
    ...(typeof started === 'number' && { started }),
  };
}

/** The fields of a Lease the lock reads and writes. */
export interface LeaseDoc {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A Lease's MicroTime (RFC 3339 with microseconds). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease naming `me` as holder (`prev`: the lease taken over, whose resourceVersion guards the write). */
export function heldLease(
  release: string,
  me: Holder,
  now: number,
  prev?: LeaseDoc,
  acquiredAt = now,
): LeaseDoc {
  const extra = {
    ...(me.boot && { boot: me.boot }),
    ...(me.started !== undefined && { started: me.started }),
  };
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: leaseName(release),
      ...(prev?.metadata.resourceVersion && { resourceVersion: prev.metadata.resourceVersion }),
      annotations: { [ANNOTATION]: JSON.stringify(extra) },
    },
    spec: {
      holderIdentity: formatIdentity(me),
      leaseDurationSeconds: LEASE_SECONDS,
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(now),
      leaseTransitions:
        (prev?.spec.leaseTransitions ?? -1) + (prev?.spec.holderIdentity === formatIdentity(me) ? 0 : 1),
    },
  };
}

/** The lease with nobody holding it (what a holder leaves behind). */
export function releasedLease(held: LeaseDoc): LeaseDoc {
  const { holderIdentity: _h, acquireTime: _a, renewTime: _r, ...spec } = held.spec;
  return { ...held, metadata: { ...held.metadata, annotations: {} }, spec };
}

/** The holder a lease names, with its boot and process start, and when it took and last renewed it. */
export interface HeldBy extends Holder {
  since?: number;
  renewed?: number;
  durationS: number;
}

/** Who holds a lease, or undefined when nobody does (released, or not written by this suite). */
export function holderOf(lease: LeaseDoc | undefined): HeldBy | undefined {
  const id = parseIdentity(lease?.spec.holderIdentity);
  if (!lease || !id) return undefined;
  let extra: { boot?: string; started?: number } = {};
  try {
    extra = JSON.parse(lease.metadata.annotations?.[ANNOTATION] ?? '{}') as typeof extra;
  } catch {
    // written by hand: judged by its renewal alone
  }
  const t = (s: string | undefined) => (s && !Number.isNaN(Date.parse(s)) ? Date.parse(s) : undefined);
  const since = t(lease.spec.acquireTime);
  const renewed = t(lease.spec.renewTime) ?? since;
  return {
    ...id,
    ...(typeof extra.boot === 'string' && { boot: extra.boot }),
    ...(typeof extra.started === 'number' && { started: extra.started }),
    ...(since !== undefined && { since }),
    ...(renewed !== undefined && { renewed }),
    durationS: lease.spec.leaseDurationSeconds ?? LEASE_SECONDS,
  };
}

/** What this machine can tell about a holder's process. */
export interface Here {
  host: string;
  boot?: string;
  /** The start time of a live process (undefined when not known), or false when there is none. */
  process(pid: number): number | false | undefined;
}

/** Whether a holder is gone, and why: its lease expired, or its process (on this machine) is gone. */
export type Judgement = { gone: false } | { gone: true; why: string };

/** Judges a holder at `now` as seen from `here` (pure: the process lookup is injected). */
export function judge(h: HeldBy, now: number, here: Here): Judgement {
  if (h.renewed === undefined) return { gone: true, why: 'its lease has no renewal time' };
  const expiry = h.renewed + h.durationS * 1000;
  if (now > expiry) {
    return {
      gone: true,
      why: `its lease was last renewed ${ago(now - h.renewed)} ago (it lasts ${h.durationS} s)`,
    };
  }
  // Same host name is not enough (containers, cloned VMs): the boot must match too when both are known.
  const sameMachine =
    h.host === here.host && (h.boot === undefined || here.boot === undefined || h.boot === here.boot);
  if (!sameMachine) return { gone: false };
  const p = here.process(h.pid);
  if (p === false) return { gone: true, why: `its process ${h.pid} on this machine is gone` };
  if (p !== undefined && h.started !== undefined && p !== h.started)
    return {
      gone: true,
      why: `its process ${h.pid} on this machine is gone (the pid is another process's now)`,
    };
  return { gone: false };
}

/** `45 s`, `3m 20s`, `2h 5m`: a duration as the waiting lines show it. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** `npm run deploy (host laptop, pid 4242, since 2026-05-01 10:00:00 UTC, 40 s ago)`. */
export function describeHolder(h: HeldBy, now: number): string {
  const since =
    h.since === undefined
      ? ''
      : `, since ${new Date(h.since).toISOString().slice(0, 19).replace('T', ' ')} UTC, ${ago(now - h.since)} ago`;
  return `npm run ${h.command} (host ${h.host}, pid ${h.pid}${since})`;
}

/** The line a waiting command prints once per holder. */
export function waitingLine(release: string, h: HeldBy, now: number): string {
  return `release "${release}" is held by ${describeHolder(h, now)}: waiting for it to finish (--no-wait refuses instead)`;
}

/** The refusal of `--no-wait` while another command holds the release (exit 2). */
export function busyError(release: string, h: HeldBy, now: number, again: string): UsageError {
  return new UsageError(
    `release "${release}" is held by ${describeHolder(h, now)}: not waiting (--no-wait)`,
    {
      hint: `run it again when that one has finished (without --no-wait it waits): ${again}`,
    },
  );
}

/** What the lock tells the command while it waits and holds (logic never prints). */
export interface LockEvents {
  waiting?(holder: HeldBy): void;
  progress?(holder: HeldBy, waitedMs: number): void;
  tookOver?(holder: HeldBy, why: string): void;
  /** A renewal failed (network, rights) or found another holder: said once, the command goes on. */
  trouble?(message: string): void;
}

export interface LockOptions {
  noWait?: boolean;
  signal?: AbortSignal;
  /** What `--no-wait`'s hint repeats. */
  again: string;
  events?: LockEvents;
  here?: Here;
  clock?: () => number;
  pollMs?: number;
  renewMs?: number;
}

/** The real machine: host, boot, processes from /proc (or a signal 0 elsewhere). */
export function hereNow(me: Holder): Here {
  return { host: me.host, ...(me.boot && { boot: me.boot }), process: (pid) => processStart(pid) };
}

/**
 * Who holds the release now and is still there (judged as a waiter judges: renewed in time, its process
 * alive when on this machine); null when nobody does, undefined when the lease cannot be read. For the
 * commands that only read (doctor): a rollback is advised only when this is null.
 */
export async function liveHolder(
  kubectl: Kubectl,
  release: string,
  opts: { here?: Here; now?: number } = {},
): Promise<HeldBy | null | undefined> {
  const me = thisHolder('doctor');
  const lease = await new ReleaseLock(kubectl, release, me, { again: '' })
    .read()
    .catch(() => 'unreadable' as const);
  if (lease === 'unreadable') return undefined;
  const h = holderOf(lease);
  if (!h) return null;
  return judge(h, opts.now ?? Date.now(), opts.here ?? hereNow(me)).gone ? null : h;
}

/** The kubectl arguments of a lease write: the Lease's JSON goes on stdin, the API's answer comes back. */
export function leaseWriteArgs(verb: 'create' | 'replace'): string[] {
  return [verb, '-f', '-', '-o', 'json'];
}

/** The cluster-scoped kubectl arguments that create the release's namespace for its lease. */
export function namespaceCreateArgs(namespace: string): string[] {
  return ['create', 'namespace', namespace];
}

/**
 * The commands taking and holding the lock runs, for `--dry-run`: [arguments, cluster-scoped, when].
 * Built by the functions the lock itself calls.
 */
export function lockPlan(
  release: string,
  namespace: string,
): { args: string[]; clusterScoped?: true; when?: string }[] {
  return [
    { args: leaseWriteArgs('create') },
    { args: namespaceCreateArgs(namespace), clusterScoped: true, when: 'the namespace does not exist yet' },
    { args: getOptionalArgs('lease', leaseName(release)), when: 'another command holds the release' },
    {
      args: leaseWriteArgs('replace'),
      when: `renewed every ${RENEW_MS / 1000} s while held, released at the end; a holder that is gone is taken over`,
    },
  ];
}

/** The lease of one release, held by this process from `acquire()` to `release()`. */
export class ReleaseLock {
  #held: LeaseDoc | undefined;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #troubled = false;
  /** Whether acquiring had to wait for (or take over from) another holder: what was read before is stale. */
  waited = false;

  constructor(
    readonly kubectl: Kubectl,
    readonly releaseName: string,
    readonly me: Holder,
    readonly opts: LockOptions,
  ) {}

  get #now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  /** Takes the release, waiting for (or with `noWait` refusing at once over) a live holder. */
  async acquire(): Promise<void> {
    const here = this.opts.here ?? hereNow(this.me);
    let announced: string | undefined;
    const started = this.#now;
    for (;;) {
      const created = await this.#write('create', heldLease(this.releaseName, this.me, this.#now));
      if (created.ok) return this.#hold(created.lease);
      if (created.reason === 'NamespaceMissing') {
        await this.#createNamespace();
        continue;
      }
      const current = created.reason === 'AlreadyExists' ? await this.read() : undefined;
      if (created.reason === 'AlreadyExists' && current) {
        const h = holderOf(current);
        const verdict = h ? judge(h, this.#now, here) : ({ gone: true, why: '' } as const);
        if (verdict.gone) {
          const taken = await this.#write(
            'replace',
            heldLease(this.releaseName, this.me, this.#now, current),
          );
          if (taken.ok) {
            if (h) {
              this.waited = true;
              this.opts.events?.tookOver?.(h, verdict.why);
            }
            return this.#hold(taken.lease);
          }
          continue; // someone else was quicker (Conflict) or it went (NotFound): look again
        }
        if (h) {
          if (this.opts.noWait) throw busyError(this.releaseName, h, this.#now, this.opts.again);
          this.waited = true;
          if (announced !== h.token) this.opts.events?.waiting?.(h);
          announced = h.token;
          this.opts.events?.progress?.(h, this.#now - started);
        }
      }
      // Gone between create and get, or the namespace is being deleted: try again shortly.
      await abortableSleep(this.opts.pollMs ?? POLL_MS, this.opts.signal);
    }
  }

  /** Leaves the lease released (nobody holding it), if it is still ours; never throws. */
  release(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return this.#serial(async () => {
      const held = this.#held;
      if (!held) return;
      this.#held = undefined;
      let target: LeaseDoc | undefined = held;
      for (let i = 0; i < 3 && target; i++) {
        const r = await this.#write('replace', releasedLease(target));
        if (r.ok || r.reason === 'NotFound') return;
        const now = await this.read().catch(() => undefined);
        target = holderOf(now)?.token === this.me.token ? now : undefined;
      }
    }).catch(() => undefined);
  }

  /** Renews the lease now (the timer does so every ten seconds); after --fresh, creates it again. */
  renew(): Promise<void> {
    return this.#serial(async () => {
      const held = this.#held;
      if (!held) return;
      const since = Date.parse(held.spec.acquireTime ?? '') || this.#now;
      const r = await this.#write('replace', heldLease(this.releaseName, this.me, this.#now, held, since));
      if (r.ok) {
        this.#held = r.lease;
        return;
      }
      const now = r.reason === 'NotFound' ? undefined : await this.read();
      const other = holderOf(now);
      if (other && other.token !== this.me.token) {
        this.#lost(other);
        return;
      }
      if (now) this.#held = now;
      else {
        // Deleted with its namespace (deploy --fresh): taken again once there is a namespace (reclaim).
        const again = await this.#write(
          'create',
          heldLease(this.releaseName, this.me, this.#now, undefined, since),
        );
        if (again.ok) this.#held = again.lease;
      }
    }).catch((err: unknown) =>
      this.#trouble(`could not renew the release lock: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /**
   * After the namespace and the lease with it were deleted (deploy --fresh): the namespace and the lease
   * again, at once; a command that took the release meanwhile is an error (it runs now, this one stops).
   */
  async reclaim(): Promise<void> {
    await this.#serial(async () => {
      const held = this.#held;
      if (!held) return;
      const since = Date.parse(held.spec.acquireTime ?? '') || this.#now;
      for (;;) {
        const r = await this.#write(
          'create',
          heldLease(this.releaseName, this.me, this.#now, undefined, since),
        );
        if (r.ok) {
          this.#held = r.lease;
          return;
        }
        if (r.reason === 'NamespaceMissing') {
          await this.#createNamespace();
          continue;
        }
        const now = r.reason === 'AlreadyExists' ? await this.read() : undefined;
        const other = holderOf(now);
        if (now && other && other.token !== this.me.token) {
          this.#lost(other);
          throw new OperationError(
            `while the namespace was deleted, ${describeHolder(other, this.#now)} took release "${this.releaseName}": it runs now`,
            { hint: 'let it finish, then run this command again' },
          );
        }
        if (now) {
          this.#held = now;
          return;
        }
        await abortableSleep(this.opts.pollMs ?? POLL_MS, this.opts.signal);
      }
    });
  }

  /** Who else holds the release now (re-read), null when nobody else does, undefined when it cannot be read. */
  async otherHolder(): Promise<HeldBy | null | undefined> {
    const lease = await this.read().catch(() => 'unreadable' as const);
    if (lease === 'unreadable') return undefined;
    const h = holderOf(lease);
    return h && h.token !== this.me.token ? h : null;
  }

  /** The Lease, or undefined when there is none. */
  read(): Promise<LeaseDoc | undefined> {
    return this.kubectl.getOptional<LeaseDoc>('lease', leaseName(this.releaseName));
  }

  #hold(lease: LeaseDoc): void {
    this.#held = lease;
    this.#timer = setInterval(() => void this.renew(), this.opts.renewMs ?? RENEW_MS);
    this.#timer.unref();
  }

  #lost(other: HeldBy): void {
    this.#held = undefined;
    clearInterval(this.#timer);
    this.#trouble(`another command took the release lock: ${describeHolder(other, this.#now)}`);
  }

  #trouble(message: string): void {
    if (this.#troubled) return;
    this.#troubled = true;
    this.opts.events?.trouble?.(message);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  async #createNamespace(): Promise<void> {
    const ns = this.kubectl.target.namespace;
    const r = await this.kubectl.run(namespaceCreateArgs(ns), { clusterScoped: true });
    if (r.exitCode !== 0 && !/AlreadyExists/.test(r.stderr))
      throw translateKubectlError(r.stderr, this.kubectl.target, `create namespace ${ns}`);
  }

  /** kubectl create/replace of the lease, its JSON on stdin; the API's refusal reason when it fails. */
  async #write(
    verb: 'create' | 'replace',
    lease: LeaseDoc,
  ): Promise<{ ok: true; lease: LeaseDoc; reason?: undefined } | { ok: false; reason: string }> {
    const r = await this.kubectl.run(leaseWriteArgs(verb), { stdin: JSON.stringify(lease) });
    if (r.exitCode === 0) return { ok: true, lease: JSON.parse(r.stdout) as LeaseDoc };
    const reason = /\((\w+)\)/.exec(r.stderr)?.[1] ?? '';
    if (reason === 'NotFound' && /namespaces? "[^"]*" not found/.test(r.stderr))
      return { ok: false, reason: 'NamespaceMissing' };
    if (reason === 'Forbidden' && /being terminated/.test(r.stderr))
      return { ok: false, reason: 'Terminating' };
    if (['AlreadyExists', 'Conflict', 'NotFound'].includes(reason)) return { ok: false, reason };
    throw translateKubectlError(
      r.stderr,
      this.kubectl.target,
      `${verb} the release lock (lease ${leaseName(this.releaseName)})`,
    );
  }
}
