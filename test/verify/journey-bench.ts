// Timings of `npm run verify` on the simulated cluster with the stand-ins (the real better-auth SSO, the
// API and Mailpit stand-ins): the whole command, from its start to its exit, on a healthy release and
// for the failures a person meets first. Run: npm run bench:journey [-- RUNS]. Prints a table; writes
// nothing outside its own temporary folders.
import { journeyRelease } from '../standins/programs.ts';

const runs = Number(process.argv[2] ?? 5);
const r = await journeyRelease('tf-bench');

/** Runs verify once; its wall time in ms, exit code and the first failed step. */
async function timed(args: string[] = []): Promise<{ ms: number; code: number; failed?: string }> {
  const t0 = performance.now();
  const res = await r.run('verify', ['--json', ...args], { timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  const doc = JSON.parse(res.stdout) as { checks: { id: string; status: string }[] };
  const failed = doc.checks.find((c) => c.status === 'fail')?.id;
  return { ms, code: res.code ?? -1, ...(failed && { failed }) };
}

async function series(label: string, n: number, args: string[] = []): Promise<string> {
  const all = [];
  for (let i = 0; i < n; i++) all.push(await timed(args));
  const ms = all.map((x) => x.ms).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)] ?? 0;
  const codes = [...new Set(all.map((x) => `${x.code}${x.failed ? ` ${x.failed}` : ''}`))].join(', ');
  return `| ${label} | ${n} | ${(median / 1000).toFixed(2)} s | ${((ms.at(-1) ?? 0) / 1000).toFixed(2)} s | ${codes} |`;
}

/** Changes the SSO's ConfigMap by hand and restarts it (as in verify.e2e). */
async function setSso(data: Record<string, string>): Promise<void> {
  await r.kubectl(['patch', 'configmap', 'sso-platform', '--type', 'merge', '-p', JSON.stringify({ data })]);
  await r.kubectl(['rollout', 'restart', 'deployment/sso-platform']);
  await r.kubectl(['rollout', 'status', 'deployment/sso-platform', '--timeout=90s']);
}

const rows: string[] = [];
try {
  await timed(); // the first run pays for the compile cache and the SSO's first signing key
  rows.push(await series('healthy: every step', runs));
  const origins = (
    await r.kubectl(['get', 'configmap', 'sso-platform', '-o', 'jsonpath={.data.ALLOWED_ORIGINS}'])
  ).stdout;
  await setSso({ ALLOWED_ORIGINS: 'http://localhost:3001' });
  rows.push(await series('web origin missing from ALLOWED_ORIGINS', runs));
  await setSso({ ALLOWED_ORIGINS: origins, SMTP_PORT: '2525' });
  rows.push(await series('mail never reaches Mailpit (default --mail-timeout)', Math.min(runs, 2)));
  await setSso({ SMTP_PORT: '1025' });
  await r.kubectl(['scale', 'deployment/sso-platform', '--replicas=0']);
  rows.push(await series('SSO not Ready (no pod)', runs));
} finally {
  await r.stop();
}
console.log(`| case | runs | median | max | exit, failed step |\n|---|---|---|---|---|\n${rows.join('\n')}`);
