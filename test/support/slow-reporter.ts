import type { Reporter, TestCase } from 'vitest/node';

/** How long a test may run before it is named (TASKFLOW_TEST_QUIET_MS to change it). */
const QUIET_MS = Number(process.env.TASKFLOW_TEST_QUIET_MS ?? 60_000);

/**
 * Names the tests still running when a run goes quiet for a minute, so a slow or stuck run says where
 * it is (the default reporter prints a file only once all its tests are done).
 */
export default class SlowReporter implements Reporter {
  readonly #running = new Map<string, { name: string; since: number; told?: boolean }>();
  #timer: NodeJS.Timeout | undefined;

  onInit(): void {
    this.#timer = setInterval(() => this.#report(), Math.max(1000, QUIET_MS / 12));
    this.#timer.unref();
  }

  onTestCaseReady(test: TestCase): void {
    this.#running.set(test.id, {
      name: `${test.module.moduleId.split('/test/').at(-1) ?? ''} > ${test.fullName}`,
      since: Date.now(),
    });
  }

  onTestCaseResult(test: TestCase): void {
    this.#running.delete(test.id);
  }

  onTestRunEnd(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #report(): void {
    const now = Date.now();
    const slow = [...this.#running.values()].filter((t) => !t.told && now - t.since >= QUIET_MS);
    if (slow.length === 0) return;
    for (const t of slow) t.told = true;
    const lines = slow.map((t) => `  ${Math.round((now - t.since) / 1000)}s  ${t.name}`);
    process.stderr.write(
      `\nstill running after ${Math.round(QUIET_MS / 1000)}s or more:\n${lines.join('\n')}\n`,
    );
  }
}
