// The pod runtime contract lives in ../runtime.ts; the helpers below read its errors.
export type { ExecRequest, PodProcessInfo, PodRef, PodRuntime } from '../runtime.ts';

/** The HTTP status an error from the runtime asks for (500 when it names none). */
export function httpStatusOf(err: unknown): number {
  const e = (err ?? {}) as Record<string, unknown>;
  for (const field of ['statusCode', 'status', 'code', 'httpStatus']) {
    const v = e[field];
    if (typeof v === 'number' && v >= 400 && v < 600) return v;
  }
  return 500;
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The Kubernetes Status reason an error names, if any (KubeSimError carries one). */
export function reasonOf(err: unknown): string | undefined {
  const r = (err as { reason?: unknown } | null)?.reason;
  return typeof r === 'string' && r ? r : undefined;
}
