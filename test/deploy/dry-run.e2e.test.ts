import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteForDisplay } from '../../lib/exec.ts';
import { startKubeSim } from '../kube-sim/index.ts';
import { runScript } from '../support/e2e.ts';
import { type DeployEnv, type RecordedCall, deployEnv } from './e2e-support.ts';

type Sim = Awaited<ReturnType<typeof startKubeSim>>;

/** The commands a `--dry-run` plan lists: tool name and arguments as printed, and its condition. */
function plannedCommands(stdout: string): { line: string; when?: string }[] {
  const out: { line: string; when?: string }[] = [];
  for (const raw of stdout.split('\n')) {
    const m = /^\s{7}(\S*\/(kubectl|helm)) (.*?)(?: {3}\(when (.*)\))?$/.exec(raw);
    if (!m) continue;
    out.push({ line: `${m[2]} ${m[3]}`, ...(m[4] !== undefined && { when: m[4] }) });
  }
  return out;
}

const shown = (c: RecordedCall): string => `${c.tool} ${c.args.map(quoteForDisplay).join(' ')}`;

/** Calls that change the cluster (or run something in it). */
const WRITES =
  /^(helm (upgrade|install|uninstall|rollback)|kubectl .*\b(delete|apply|create|patch|scale|exec|rollout restart)\b)/;

describe('deploy --dry-run prints the commands the real deploy runs', () => {
  let sim: Sim;
  let se: DeployEnv;
  beforeAll(async () => {
    sim = await startKubeSim({ scenario: { readyAfterMs: 200 } });
    se = deployEnv({ kubeconfig: sim.kubeconfigPath, envFile: 'TASKFLOW_NAMESPACE=tf-plan\n' });
  });
  afterAll(async () => {
    se?.cleanup();
    await sim?.stop();
  });

  it("with Mailpit asked for, the plan warns that the env file's SMTP is set aside (the one SMTP rule)", async () => {
    writeFileSync(
      path.join(se.cwd, '.env'),
      `${se.envFile()}SMTP_HOST=smtp.example.com\nSMTP_USER=mailer\nSMTP_PASS=smtp-pass-abcdef123456\n`,
    );
    try {
      const dry = await se.deploy(['--dry-run', '--addon', 'mailpit']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).toMatch(
        /SMTP_HOST in \S*\.env \(smtp\.example\.com:587\) is ignored while the Mailpit add-on is on: the SSO sends its mail to Mailpit \(mailpit:1025\)/,
      );
      expect(dry.stdout + dry.stderr).not.toContain('smtp-pass-abcdef123456');
      // Mailpit gets the chart's default sender: no smtp.sender warning.
      expect(dry.stdout + dry.stderr).not.toContain('[smtp.sender]');
    } finally {
      writeFileSync(path.join(se.cwd, '.env'), se.envFile());
    }
  });

  it("a real SMTP server with the chart's default sender: the plan and the deploy warn as validate does", async () => {
    writeFileSync(
      path.join(se.cwd, '.env'),
      `${se.envFile()}SMTP_HOST=smtp.example.com\nSMTP_USER=mailer\nSMTP_PASS=smtp-pass-abcdef123456\n`,
    );
    const warning =
      "Mail sender (EMAIL_FROM): smtp.example.com gets the chart's default sender TaskFlow <no-reply@taskflow.local>: a real SMTP server usually refuses (or files as spam) a sender outside your own domain [smtp.sender]";
    try {
      const validate = await runScript('preflight', [], se);
      expect(validate.stdout + validate.stderr).toContain(warning);
      const dry = await se.deploy(['--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).toContain(warning);
      // --diff goes the deploy's own way up to the upgrade (the same line prints it there).
      const diff = await se.deploy(['--diff']);
      expect(diff.stdout + diff.stderr).toContain(warning);
    } finally {
      writeFileSync(path.join(se.cwd, '.env'), se.envFile());
    }
  });

  it('on a first install and on a redeploy: every planned command runs, and nothing that writes is unplanned', async () => {
    for (const round of ['first install', 'redeploy']) {
      // A changed setting: the redeploy upgrades (with nothing to change it skips the upgrade, below).
      if (round === 'redeploy')
        writeFileSync(
          path.join(se.cwd, '.env'),
          `${se.envFile()}ALLOWED_ORIGINS=http://localhost:3000,http://localhost:3001,http://localhost:4000\n`,
        );
      const dry = await se.deploy(['--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      const planned = plannedCommands(dry.stdout);
      expect(
        planned.some((p) => p.line.startsWith('helm upgrade ')),
        dry.stdout,
      ).toBe(true);
      const before = se.calls().length;
      const real = await se.deploy(['--json']);
      expect(real.code, `${round}: ${real.stderr}`).toBe(0);
      const ran = new Set(se.calls().slice(before).map(shown));
      // Unconditional ones always; on the redeploy the volumes exist and the pods run, so all of them
      // but the lock's (the namespace exists then, and nobody else holds the release). On the first
      // install the lease needs the namespace, which the lock creates.
      const holds = (when: string): boolean =>
        round === 'redeploy'
          ? !/does not exist yet|another command holds/.test(when)
          : /does not exist yet/.test(when);
      for (const p of planned.filter((x) => x.when === undefined || holds(x.when)))
        expect(ran.has(p.line), `${round}: planned but not run: ${p.line}`).toBe(true);
      const plannedLines = new Set(planned.map((p) => p.line));
      for (const line of ran)
        if (WRITES.test(line))
          expect(plannedLines.has(line), `${round}: ran but not planned: ${line}`).toBe(true);
    }
    // Nothing to change, and the release was made by the deploy before with these same inputs: no
    // helm upgrade at all (not even the dry run that compares), and nothing else writes but the
    // verification's database logins and the read of the SSO's signing key (kubectl exec, psql on
    // stdin) and the release lock: its lease taken (created)
    // (a create, AlreadyExists: the lease of the deploy before is there, released; so replaced) and
    // left released (replaced), all from stdin.
    const before = se.calls().length;
    const same = await se.deploy(['--json']);
    expect(same.code, same.stderr).toBe(0);
    const ran = se.calls().slice(before).map(shown);
    const lease = ran.filter((l) => / (create|replace) -f - -o json$/.test(l));
    expect(lease.map((l) => l.split(' ').at(-5))).toEqual(['create', 'replace', 'replace']);
    expect(ran.filter((l) => WRITES.test(l) && !/ exec /.test(l) && !lease.includes(l))).toEqual([]);
    expect(ran.filter((l) => / exec /.test(l))).toHaveLength(3);
  });
});
