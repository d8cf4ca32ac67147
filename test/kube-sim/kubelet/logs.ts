// Container logs: one buffer per container run (the current one and the previous one serve
// `kubectl logs` and `--previous`), with followers that end when the run ends.

export interface LogLine {
  time: string;
  text: string;
}

/** Lines kept per run, the oldest dropped first (a kubelet rotates container logs at 10 MiB). */
export const MAX_LOG_LINES = 20_000;

/** One run of a container: what it printed, and who is following it. */
export class LogRun {
  readonly lines: LogLine[] = [];
  ended = false;
  private readonly followers = new Set<(line: LogLine | null) => void>();

  /** Appends a line (a trailing newline is added when missing). */
  write(text: string): void {
    if (this.ended) return;
    for (const part of text.replace(/\n$/, '').split('\n')) {
      const line = { time: new Date().toISOString().replace('Z', '000000Z'), text: `${part}\n` };
      this.lines.push(line);
      for (const f of this.followers) f(line);
    }
    if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
  }

  /** Marks the run finished: followers are told with null. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const f of this.followers) f(null);
    this.followers.clear();
  }

  /** Calls `fn` for each later line, then null at the end; returns the unsubscribe function. */
  follow(fn: (line: LogLine | null) => void): () => void {
    if (this.ended) {
      fn(null);
      return () => undefined;
    }
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}

/** All runs of one container. */
export class ContainerLog {
  readonly runs: LogRun[] = [];

  /** Starts a new run (a restart). */
  start(): LogRun {
    this.current()?.end();
    const run = new LogRun();
    this.runs.push(run);
    // Only the current and previous runs are kept, like the kubelet.
    if (this.runs.length > 2) this.runs.shift();
    return run;
  }

  current(): LogRun | undefined {
    return this.runs[this.runs.length - 1];
  }

  previous(): LogRun | undefined {
    return this.runs.length > 1 ? this.runs[this.runs.length - 2] : undefined;
  }
}
