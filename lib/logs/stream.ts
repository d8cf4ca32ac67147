import { type RunResult, forEachLine, type Started } from '../exec.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import type { Redactor } from '../redact.ts';
import type { LineFormatter, LogRecord } from './format.ts';
import { splitTimestamp } from './format.ts';
import { type ContainerView, type PodView, hasLogs, linePrefix, podView } from './pods.ts';
import type { PodEvent } from './watch.ts';

/** What a stream prints and how (shared by the one-shot dump and the follower). */
export interface StreamOutput {
  formatter: LineFormatter;
  redactor: Redactor;
  write: (text: string) => void;
  /** Notes about the stream (a pod left) under --json, which keeps stdout for the records. */
  note: (text: string) => void;
  /** kubectl's complaints, for --verbose. */
  debug: (text: string) => void;
  grep: RegExp | undefined;
  json: boolean;
}

/** Which lines of a container to read: its flags for `kubectl logs`. */
export interface ReadLimits {
  tail?: number;
  since?: string;
  previous?: boolean;
}

/** kubectl arguments that read one container's log with timestamps (following it with `follow`). */
export function logArgs(pod: string, container: string, limits: ReadLimits, follow: boolean): string[] {
  return [
    'logs',
    pod,
    '-c',
    container,
    '--timestamps',
    ...(follow ? ['-f'] : []),
    ...(limits.previous ? ['--previous'] : []),
    ...(limits.tail !== undefined ? [`--tail=${limits.tail}`] : []),
    ...(limits.since !== undefined ? [`--since=${limits.since}`] : []),
  ];
}

/**
 * A raw line of one container made a record, secrets masked; undefined when --grep leaves it out.
 * `previous`: the line is of the container's previous run (the record says so).
 */
export function toRecord(
  raw: string,
  pod: PodView,
  c: ContainerView,
  out: Pick<StreamOutput, 'redactor' | 'grep'>,
  previous = false,
): LogRecord | undefined {
  const { time, line } = splitTimestamp(raw);
  const masked = out.redactor.redact(line);
  if (out.grep && !out.grep.test(masked)) return undefined;
  return {
    time,
    component: pod.component,
    pod: pod.name,
    container: c.name,
    line: masked,
    ...(previous && { previous: true as const }),
  };
}

/** The records of one `kubectl logs` answer (its stdout). */
function recordsOf(
  stdout: string,
  pod: PodView,
  c: ContainerView,
  out: Pick<StreamOutput, 'redactor' | 'grep'>,
  previous: boolean,
): LogRecord[] {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.flatMap((l) => toRecord(l.replace(/\r$/, ''), pod, c, out, previous) ?? []);
}

/** The containers a read covers: those with lines (with `previous`, those that restarted). */
export function readableContainers(pod: PodView, previous: boolean): ContainerView[] {
  return pod.containers.filter((c) => (previous ? c.hasPrevious : hasLogs(c) || c.hasPrevious));
}

/**
 * The runs a read covers, per container: its current run when it runs or ran, and its previous run
 * when it restarted (a crash-looping container waiting in CrashLoopBackOff has only that one: the run
 * that just ended); with `--previous` only the previous runs.
 */
export function readsOf(pod: PodView, previousOnly: boolean): { c: ContainerView; previous: boolean }[] {
  return pod.containers.flatMap((c) => [
    ...(c.hasPrevious ? [{ c, previous: true }] : []),
    ...(!previousOnly && hasLogs(c) ? [{ c, previous: false }] : []),
  ]);
}

/**
 * Prints what the containers of these pods have logged so far, merged in time order (a previous run's
 * lines named so), and returns the reads kubectl could not answer (with its reason).
 */
export async function dumpLogs(
  kubectl: Kubectl,
  pods: PodView[],
  limits: ReadLimits,
  out: StreamOutput,
  concurrency = 8,
): Promise<{ failed: { prefix: string; reason: string }[] }> {
  const previousOnly = limits.previous ?? false;
  const jobs = pods.flatMap((p) => readsOf(p, previousOnly).map((r) => ({ p, ...r })));
  for (const { p, c, previous } of jobs) out.formatter.reserve(linePrefix(p, c, previous));
  const results: { prefix: string; records: LogRecord[] }[] = new Array(jobs.length);
  const failed: { prefix: string; reason: string }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const { p, c, previous } = jobs[i]!;
      const prefix = linePrefix(p, c, previous);
      const res = await kubectl.run(logArgs(p.name, c.name, { ...limits, previous }, false));
      results[i] = { prefix, records: [] };
      if (res.exitCode !== 0) {
        const reason = out.redactor.redact(res.stderr.trim().split('\n')[0] ?? '');
        // A previous run read on the side (not asked for with --previous) may be gone: not a failure.
        if (previous && !previousOnly) out.debug(`${prefix}: ${reason}`);
        else failed.push({ prefix, reason });
        continue;
      }
      results[i] = { prefix, records: recordsOf(res.stdout, p, c, out, previous) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  // One stream in time order; lines of one container keep their order (the sort is stable).
  const all = results.flatMap((r, i) => r.records.map((rec, j) => ({ rec, prefix: r.prefix, i, j })));
  all.sort((a, b) => (a.rec.time < b.rec.time ? -1 : a.rec.time > b.rec.time ? 1 : a.i - b.i || a.j - b.j));
  let text = '';
  for (const { rec, prefix } of all) {
    text += out.formatter.line(prefix, rec);
    if (text.length > 64 * 1024) {
      out.write(text);
      text = '';
    }
  }
  if (text) out.write(text);
  return { failed };
}

interface Follower {
  runId: string | undefined;
  child: Started;
  printed: number;
  done: Promise<void>;
}

/**
 * Follows the containers of the selected pods: one `kubectl logs -f` per container run, started when
 * the watch shows the run (or a pod that joins later), never two for one container; a pod that goes
 * away leaves with a note once its followers have printed what they had.
 */
export class LogStream {
  /** The latest view of each selected pod, by uid. */
  readonly #pods = new Map<string, PodView>();
  /** Followers running, by `uid/container`. */
  readonly #active = new Map<string, Follower>();
  /** The run each container was last followed for (so a finished run is not read again). */
  readonly #followed = new Map<string, string | undefined>();
  /** Pods whose note has been printed. */
  readonly #gone = new Set<string>();
  /**
   * Containers whose previous run is being or was printed (once, when the stream begins), by
   * `uid/container`: until it is, the lines of their current run wait, so the runs print in order.
   */
  readonly #previous = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    readonly kubectl: Kubectl,
    readonly out: StreamOutput,
    readonly opts: {
      /** Whether a pod's component is followed. */
      selected: (component: string) => boolean;
      /** Limits for the runs that were there when the command started (--tail, --since). */
      initial: ReadLimits;
      /** How long a leaving pod's followers may still print before they are stopped. */
      leaveGraceMs?: number;
    },
  ) {}

  /** Followers running now (one kubectl each). */
  get followers(): number {
    return this.#active.size;
  }

  /** Starts following the pods there at the start (the --tail and --since limits apply to them). */
  begin(pods: Pod[]): void {
    for (const pod of pods) this.#update(podView(pod), true);
  }

  /** Reacts to one event of the pod watch. */
  onEvent(e: PodEvent): void {
    if (this.#stopped || e.type === 'BOOKMARK' || e.type === 'ERROR') return;
    const view = podView(e.object);
    if (e.type === 'DELETED') void this.#leave(view);
    else this.#update(view, false);
  }

  #update(view: PodView, initial: boolean): void {
    if (!this.opts.selected(view.component) || this.#gone.has(view.uid)) return;
    this.#pods.set(view.uid, view);
    for (const c of view.containers) {
      const key = `${view.uid}/${c.name}`;
      // A container that restarted before the stream began: its previous run first (a crash-looping
      // one waiting in CrashLoopBackOff has nothing else to show until it starts again).
      if (initial && c.hasPrevious && !this.#previous.has(key))
        this.#previous.set(key, this.#showPrevious(view, c));
      if (this.#active.has(key) || !hasLogs(c)) continue;
      if (this.#followed.has(key) && this.#followed.get(key) === c.runId) continue;
      this.#start(view, c, key, initial);
    }
  }

  #start(pod: PodView, c: ContainerView, key: string, initial: boolean): void {
    const prefix = linePrefix(pod, c);
    this.out.formatter.reserve(prefix);
    const child = this.kubectl.start(logArgs(pod.name, c.name, initial ? this.opts.initial : {}, true));
    this.#followed.set(key, c.runId);
    const f: Follower = { runId: c.runId, child, printed: 0, done: Promise.resolve() };
    let stderr = '';
    // Lines that came while the previous run was still being printed.
    let held: string[] | undefined;
    const before = this.#previous.get(key);
    if (before) {
      held = [];
      void before.then(() => {
        if (held?.length) this.out.write(held.join(''));
        held = undefined;
      });
    }
    f.done = Promise.all([
      forEachLine(child.stdout, (raw) => {
        f.printed++;
        const rec = toRecord(raw, pod, c, this.out);
        if (!rec) return;
        const text = this.out.formatter.line(prefix, rec);
        if (held) held.push(text);
        else this.out.write(text);
      }),
      forEachLine(child.stderr, (l) => (stderr += `${l}\n`)),
      child.exited,
      before,
    ]).then(([, , code]) => {
      this.#active.delete(key);
      if (stderr.trim()) this.out.debug(`${prefix}: ${this.out.redactor.redact(stderr.trim())}`);
      // kubectl could not read it (the run had not started for the kubelet yet): try again on the next event.
      if (code !== 0 && f.printed === 0) {
        this.#followed.delete(key);
        return;
      }
      // A restart while this run was read: follow the new run.
      const latest = this.#pods.get(pod.uid);
      if (!this.#stopped && latest) this.#update(latest, false);
    });
    this.#active.set(key, f);
  }

  /** Prints a container's previous run once (the --tail and --since limits apply); kubectl's complaints go to debug. */
  async #showPrevious(pod: PodView, c: ContainerView): Promise<void> {
    const prefix = linePrefix(pod, c, true);
    this.out.formatter.reserve(prefix);
    let res: RunResult;
    try {
      res = await this.kubectl.run(
        logArgs(pod.name, c.name, { ...this.opts.initial, previous: true }, false),
      );
    } catch (err) {
      this.out.debug(`${prefix}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (this.#stopped) return;
    if (res.exitCode !== 0) {
      this.out.debug(`${prefix}: ${this.out.redactor.redact(res.stderr.trim())}`);
      return;
    }
    let text = '';
    for (const rec of recordsOf(res.stdout, pod, c, this.out, true))
      text += this.out.formatter.line(prefix, rec);
    if (text) this.out.write(text);
  }

  async #leave(view: PodView): Promise<void> {
    const known = this.#pods.get(view.uid);
    if (!known || this.#gone.has(view.uid)) return;
    this.#gone.add(view.uid);
    const mine = [...this.#active.entries()].filter(([k]) => k.startsWith(`${view.uid}/`));
    const grace = new Promise<void>((r) => setTimeout(r, this.opts.leaveGraceMs ?? 1000).unref());
    await Promise.race([Promise.all(mine.map(([, f]) => f.done)), grace]);
    await Promise.all(mine.map(([, f]) => f.child.stop()));
    this.#pods.delete(view.uid);
    if (this.#stopped) return;
    const primary = known.containers.find((c) => c.primary) ?? { name: '', primary: true };
    const text = `pod ${view.name} is gone`;
    if (this.out.json) this.out.note(`${known.component}/${known.suffix}: ${text}`);
    else this.out.write(this.out.formatter.note(linePrefix(known, primary), known.component, text));
  }

  /** Stops every follower by pid. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#active.values()].map((f) => f.child.stop()));
  }
}
