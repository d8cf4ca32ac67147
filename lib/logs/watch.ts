import { forEachLine, type Started } from '../exec.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Pod } from '../pod-status.ts';
import { abortableSleep } from '../time.ts';

/** One event of `kubectl get pods -w --output-watch-events -o json`. */
export interface PodEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Pod;
}

/**
 * Cuts a stream of concatenated JSON documents (kubectl prints one per watch event, on one line or
 * indented over many) into the documents: it counts braces outside strings.
 */
export class JsonSplitter {
  #buf = '';
  #depth = 0;
  #inString = false;
  #escaped = false;
  #start = -1;

  /** Feeds a chunk; returns the complete documents it finished. */
  push(chunk: string): string[] {
    const out: string[] = [];
    const base = this.#buf.length;
    this.#buf += chunk;
    for (let i = base; i < this.#buf.length; i++) {
      const ch = this.#buf[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (ch === '\\') this.#escaped = true;
        else if (ch === '"') this.#inString = false;
        continue;
      }
      if (ch === '"') this.#inString = true;
      else if (ch === '{') {
        if (this.#depth === 0) this.#start = i;
        this.#depth++;
      } else if (ch === '}' && this.#depth > 0) {
        this.#depth--;
        if (this.#depth === 0) out.push(this.#buf.slice(this.#start, i + 1));
      }
    }
    if (this.#depth === 0) this.#buf = '';
    else if (this.#start > 0) {
      this.#buf = this.#buf.slice(this.#start);
      this.#start = 0;
    }
    return out;
  }
}

/** kubectl arguments of the pod watch of a release: every change of its pods, as JSON events. */
export function podWatchArgs(selector: string): string[] {
  return ['get', 'pods', '-l', selector, '--watch', '--output-watch-events', '-o', 'json'];
}

export interface PodWatchOptions {
  onEvent: (e: PodEvent) => void;
  /** kubectl's complaints and restarts of the watch (for --verbose and warnings). */
  onProblem: (text: string) => void;
  signal: AbortSignal;
  /** Pause before watching again after kubectl's watch ended (a server timeout, a lost connection). */
  retryMs?: number;
}

/**
 * Watches the release's pods with one long-running kubectl until stopped; a watch that ends on its own
 * (API servers close them after a while) is started again, and its initial ADDED events replayed.
 */
export class PodWatch {
  #child: Started | undefined;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly kubectl: Kubectl,
    readonly selector: string,
    readonly opts: PodWatchOptions,
  ) {
    this.done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped && !this.opts.signal.aborted) {
      const child = this.kubectl.start(podWatchArgs(this.selector));
      this.#child = child;
      const splitter = new JsonSplitter();
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer | string) => {
        for (const doc of splitter.push(chunk.toString())) {
          let e: PodEvent;
          try {
            e = JSON.parse(doc) as PodEvent;
          } catch {
            continue;
          }
          if (e.object?.kind === 'Pod') this.opts.onEvent(e);
        }
      });
      await Promise.all([forEachLine(child.stderr, (l) => (stderr += `${l}\n`)), child.exited]);
      if (this.#stopped || this.opts.signal.aborted) return;
      this.opts.onProblem(
        `the pod watch ended${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}; watching again`,
      );
      try {
        await abortableSleep(this.opts.retryMs ?? 1000, this.opts.signal);
      } catch {
        return;
      }
    }
  }

  /** Stops the watch by pid. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#child?.stop();
    await this.done;
  }
}
