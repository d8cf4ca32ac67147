import { randomBytes } from 'node:crypto';
import { type CheckOutcome, type CheckResult, fail, pass, skip } from './checks.ts';
import { APP, DATABASES } from './components.ts';
import { psqlCommand, sqlLiteral } from './db.ts';
import type { Kubectl } from './kubectl.ts';
import { redact, registerSecrets } from './redact.ts';
import { Secret } from './secrets.ts';
import { namespaceArgs, npmRun } from './suggest.ts';
import { CookieJar, jsonOf, originOf } from './journey-http.ts';
import { JOURNEY_STEPS, type JourneyStep, type ReleaseSettings } from './journey-settings.ts';
import { cleanupSql, ssoNotReady, ssoRefusal } from './journey-sso.ts';
import { apiAccepts, dashboardSignIn } from './journey-oauth.ts';

/**
 * A person's journey through the release, step by step, as the dashboard's browser walks it: the SSO
 * answers, sign-up, the verification mail, sign-in, the apps; then the throwaway account goes. What the
 * SSO answers is Better Auth 1.4.4's (see the app contract): a POST's Origin is checked against
 * ALLOWED_ORIGINS when it carries a cookie, a callbackURL always; the verification link is built from
 * BETTER_AUTH_URL.
 */

/** What the journey needs from the command: the cluster, and forwards to Service ports. */
export interface JourneyDeps {
  kubectl: Kubectl;
  namespace: string;
  signal: AbortSignal;
  mailTimeoutMs: number;
  /** Forwards a Service port to a free local port; resolves to http://127.0.0.1:PORT. */
  forward(service: string, port: number): Promise<string>;
  pollMs?: number;
}

/** The state of one journey: what it created (for the clean-up) and what each step found. */
export class Journey {
  readonly email = `taskflow-verify-${randomBytes(6).toString('hex')}@verify.invalid`;
  private readonly password = new Secret(randomBytes(18).toString('hex'));
  private readonly jar = new CookieJar();
  private sso = '';
  private mailpit: string | undefined;
  private userId: string | undefined;
  private mailIds: string[] = [];
  private link: string | undefined;
  /** OAuth codes the SSO issued (verification rows until exchanged) */
  private codes: string[] = [];
  private idToken: string | undefined;
  /** a sign-up was sent: the SSO may have made the account */
  private signedUp = false;
  private cleaned = false;
  readonly results: CheckResult[] = [];

  constructor(
    private readonly deps: JourneyDeps,
    private readonly release: ReleaseSettings,
  ) {
    registerSecrets(this.password);
  }

  private get web(): string {
    return originOf(this.release.webUrl);
  }

  private record(id: JourneyStep, o: CheckOutcome): boolean {
    const r: CheckResult = { id, title: JOURNEY_STEPS[id], status: o.status, detail: redact(o.detail) };
    if (o.hint) r.hint = redact(o.hint);
    this.results.push(r);
    return o.status !== 'fail';
  }

  /** The SSO's last log lines that mention `pattern` (for a failure's detail). */
  private async ssoLog(pattern: RegExp, lines = 5): Promise<string> {
    const text = await this.deps.kubectl.logs(`deployment/${APP.sso.name}`, { tail: 200 }).catch(() => '');
    const found = text.split('\n').filter((l) => pattern.test(l));
    return found.slice(-lines).join('\n');
  }

  private post(path: string, body: Record<string, unknown>): Promise<Response> {
    return fetch(`${this.sso}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: this.web, ...this.jar.header() },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: this.deps.signal,
    });
  }

  /** Steps in order; a failed one ends the walk (the rest would only repeat it), the clean-up always runs. */
  async walk(): Promise<CheckResult[]> {
    try {
      const steps = [this.ssoAnswers, this.signUp, this.mail, this.signIn, this.oauth, this.api, this.apps];
      for (const step of steps) if (!(await step.call(this))) break;
    } finally {
      await this.cleanup();
    }
    return this.results;
  }

  private async ssoAnswers(): Promise<boolean> {
    const { authUrl } = this.release;
    const notReady = await ssoNotReady(this.deps.kubectl, this.deps.namespace);
    if (notReady) return this.record('journey.sso', notReady);
    this.sso = await this.deps.forward(APP.sso.name, APP.sso.port);
    const health = await fetch(`${this.sso}${APP.sso.healthPath}`, { signal: this.deps.signal });
    if (health.status !== 200) {
      const body = (await health.text()).slice(0, 300);
      return this.record(
        'journey.sso',
        fail(
          `${APP.sso.healthPath} answered ${health.status}: ${body}`,
          `see why: ${npmRun('doctor', ...namespaceArgs(this.deps.namespace))}`,
        ),
      );
    }
    const disc = await fetch(`${this.sso}/api/auth/.well-known/openid-configuration`, {
      signal: this.deps.signal,
    });
    const issuer = disc.ok ? (await jsonOf<{ issuer?: string }>(disc))?.issuer : undefined;
    if (issuer !== originOf(authUrl))
      return this.record(
        'journey.sso',
        fail(
          issuer === undefined
            ? `/api/auth/.well-known/openid-configuration answered ${disc.status} without an OpenID document: is the SSO running Better Auth with its OIDC provider?`
            : `the OpenID discovery document names issuer ${issuer}, not BETTER_AUTH_URL ${authUrl}`,
          issuer === undefined
            ? `see what runs there: ${npmRun('logs', 'sso')}`
            : 'set BETTER_AUTH_URL to the URL the browser uses for the SSO, then deploy',
        ),
      );
    return this.record('journey.sso', pass(`health 200, OpenID issuer ${issuer}`));
  }

  private async signUp(): Promise<boolean> {
    this.signedUp = true;
    const res = await this.post('/api/auth/sign-up/email', {
      email: this.email,
      password: this.password.reveal(),
      name: 'TaskFlow verify',
      callbackURL: this.release.webUrl,
    });
    this.jar.take(res);
    const doc = (await jsonOf<{ user?: { id?: string }; message?: string }>(res)) ?? {};
    if (doc.user?.id) this.userId = doc.user.id;
    if (res.status === 200)
      return this.record('journey.signup', pass(`${this.email} signed up from ${this.web}`));
    return this.record('journey.signup', this.refusal(res.status, doc.message, 'sign-up'));
  }

  /** What a refused request means, in the release's settings. */
  private refusal(status: number, message: string | undefined, what: string): CheckOutcome {
    return ssoRefusal({ status, message, what, web: this.web, allowedOrigins: this.release.allowedOrigins });
  }

  private async mail(): Promise<boolean> {
    const { smtpHost, verificationOff } = this.release;
    if (verificationOff)
      return this.record(
        'journey.mail',
        skip('email verification is off (DISABLE_EMAIL_VERIFICATION, no SMTP)'),
      );
    if (smtpHost !== 'mailpit')
      return this.record(
        'journey.mail',
        skip(
          `mail goes to ${smtpHost ?? '(no SMTP host)'}: its inbox cannot be read from here, so the account is marked verified in the SSO database, as its link would`,
        ),
      );
    this.mailpit = await this.deps.forward('mailpit', 8025);
    const deadline = Date.now() + this.deps.mailTimeoutMs;
    const query = encodeURIComponent(`to:${this.email}`);
    for (;;) {
      const res = await fetch(`${this.mailpit}/api/v1/search?query=${query}`, { signal: this.deps.signal });
      const found = res.ok ? ((await jsonOf<{ messages?: { ID: string }[] }>(res))?.messages ?? []) : [];
      if (found.length > 0) {
        this.mailIds = found.map((m) => m.ID);
        break;
      }
      if (Date.now() > deadline) {
        const lines = await this.ssoLog(/\[Auth\].*(mail|Email)/i);
        return this.record(
          'journey.mail',
          fail(
            `no mail to ${this.email} reached Mailpit within ${this.deps.mailTimeoutMs / 1000} s (SMTP_HOST ${smtpHost}, SMTP_PORT ${this.release.smtpPort ?? '(unset)'}, EMAIL_FROM ${this.release.emailFrom ?? '(unset)'})${lines ? `; the SSO logged:\n${lines}` : ''}`,
            `the SSO sends mail only with SMTP_HOST, SMTP_USER, SMTP_PASS and EMAIL_FROM set: ${npmRun('env-flow', 'SMTP_HOST', 'EMAIL_FROM')} shows where they go`,
          ),
        );
      }
      await new Promise((r) => setTimeout(r, this.deps.pollMs ?? 200));
    }
    const msg =
      (await jsonOf<{ HTML?: string; Text?: string }>(
        await fetch(`${this.mailpit}/api/v1/message/${this.mailIds[0]}`, { signal: this.deps.signal }),
      )) ?? {};
    const link = /https?:\/\/[^\s"'<>]+verify-email\?token=[^\s"'<>]+/.exec(
      `${msg.HTML ?? ''} ${msg.Text ?? ''}`,
    )?.[0];
    if (!link)
      return this.record('journey.mail', fail('the mail reached Mailpit, but holds no verification link'));
    const origin = originOf(this.release.authUrl);
    if (!link.startsWith(`${origin}/`))
      return this.record(
        'journey.mail',
        fail(
          `the verification link points at ${originOf(link)}, not BETTER_AUTH_URL ${this.release.authUrl}`,
          'set BETTER_AUTH_URL to the URL the browser uses for the SSO, then deploy',
        ),
      );
    this.link = link;
    return this.record('journey.mail', pass(`reached Mailpit; the link points at ${origin}`));
  }

  private async signIn(): Promise<boolean> {
    if (!this.link && !this.release.verificationOff) {
      // The mail could not be read (a real SMTP server): what its link does, done in the SSO's database.
      const res = await this.ssoSql(
        `UPDATE "user" SET email_verified = true WHERE email = ${sqlLiteral(this.email)};\n`,
      );
      if (res.exitCode !== 0)
        return this.record(
          'journey.signin',
          fail(`could not mark ${this.email} verified: ${res.stderr.trim().split('\n')[0] ?? 'psql failed'}`),
        );
    }
    if (this.link) {
      // The link is the browser's (BETTER_AUTH_URL); it goes through the forward here.
      const url = this.link.replace(originOf(this.release.authUrl), this.sso);
      const res = await fetch(url, {
        redirect: 'manual',
        headers: this.jar.header(),
        signal: this.deps.signal,
      });
      this.jar.take(res);
      if (res.status >= 400)
        return this.record('journey.signin', fail(`the verification link answered ${res.status}`));
    }
    const res = await this.post('/api/auth/sign-in/email', {
      email: this.email,
      password: this.password.reveal(),
      callbackURL: this.release.webUrl,
    });
    this.jar.take(res);
    const doc = (await jsonOf<{ message?: string }>(res)) ?? {};
    if (res.status !== 200)
      return this.record(
        'journey.signin',
        (await this.secretMismatch(res.status)) ?? this.refusal(res.status, doc.message, 'sign-in'),
      );
    const session = await fetch(`${this.sso}/api/auth/get-session`, {
      headers: { Origin: this.web, ...this.jar.header() },
      signal: this.deps.signal,
    });
    const who = session.ok ? await jsonOf<{ user?: { email?: string } } | null>(session) : undefined;
    if (who?.user?.email !== this.email)
      return this.record(
        'journey.signin',
        (await this.secretMismatch(session.status)) ??
          fail(`signed in, but get-session answered ${session.status} without the user`),
      );
    return this.record(
      'journey.signin',
      pass(`${this.link ? 'verified, ' : ''}signed in: a session for ${this.email}`),
    );
  }

  /**
   * A 500 the SSO logged as "Failed to decrypt private key": its signing key was encrypted under another
   * BETTER_AUTH_SECRET (a changed secret over a kept database). Undefined for any other answer.
   */
  private async secretMismatch(status: number): Promise<CheckOutcome | undefined> {
    if (status !== 500 || !(await this.ssoLog(/Failed to decrypt private key/, 1))) return undefined;
    return fail(
      'the SSO answered 500 "Failed to decrypt private key": its signing keys were encrypted with another BETTER_AUTH_SECRET than the one it runs with',
      `see which secret opens them and the ways out: ${npmRun('reset-auth-secret', ...namespaceArgs(this.deps.namespace))}`,
    );
  }

  /** The dashboard's sign-in (journey-oauth.ts); its code is kept for the clean-up, its id_token for the API. */
  private async oauth(): Promise<boolean> {
    const r = await dashboardSignIn({
      sso: this.sso,
      cookies: this.jar.header(),
      webUrl: this.release.webUrl,
      authUrl: this.release.authUrl,
      signal: this.deps.signal,
      secretMismatch: (status) => this.secretMismatch(status),
    });
    if (r.code) this.codes.push(r.code);
    this.idToken = r.idToken;
    return this.record('journey.oauth', r.outcome);
  }

  private async api(): Promise<boolean> {
    const { apiSsoUrl } = this.release;
    if (!apiSsoUrl || !this.idToken)
      return this.record('journey.api', skip('the release has no API (ConfigMap taskflow-api)'));
    const base = await this.deps.forward(APP.api.name, APP.api.port);
    return this.record(
      'journey.api',
      await apiAccepts({
        base,
        idToken: this.idToken,
        origin: this.web,
        apiSsoUrl,
        apiDevMode: this.release.apiDevMode,
        signal: this.deps.signal,
      }),
    );
  }

  private async apps(): Promise<boolean> {
    const answers = await Promise.all(
      [APP.mcp, APP.web].map(async (a) => {
        const base = await this.deps.forward(a.name, a.port);
        const res = await fetch(`${base}${a.healthPath}`, { signal: this.deps.signal }).catch(
          (e: unknown) => e as Error,
        );
        return { a, status: res instanceof Error ? res.message : res.status };
      }),
    );
    const bad = answers.filter((x) => x.status !== 200);
    if (bad.length > 0)
      return this.record(
        'journey.apps',
        fail(
          bad.map((x) => `${x.a.name} ${x.a.healthPath} answered ${x.status}`).join('; '),
          `see why: ${npmRun('doctor', ...namespaceArgs(this.deps.namespace))}`,
        ),
      );
    return this.record(
      'journey.apps',
      pass(answers.map((x) => `${x.a.name} ${x.a.healthPath} 200`).join(', ')),
    );
  }

  /** psql in the SSO database's pod, the script on stdin; a failed exec as a failed result. */
  private ssoSql(sql: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const db = DATABASES.sso;
    return this.deps.kubectl
      .exec(db.pod, db.container, psqlCommand(['-tA', '-v', 'ON_ERROR_STOP=1']), {
        stdin: sql,
        timeoutMs: 30_000,
      })
      .catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: (e as Error).message }));
  }

  /** Removes what the journey made: its mail in Mailpit, its user with its sessions and accounts. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const left: string[] = [];
    if (this.mailpit && this.mailIds.length > 0) {
      const res = await fetch(`${this.mailpit}/api/v1/messages`, {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ IDs: this.mailIds }),
      }).catch(() => undefined);
      if (!res?.ok) left.push(`its mail in Mailpit (${this.mailIds.join(', ')})`);
    }
    if (!this.signedUp) {
      this.record('journey.cleanup', pass('nothing was created'));
      return;
    }
    const db = DATABASES.sso;
    const ids = this.userId ? [this.userId] : [];
    // Also by address: a sign-up that failed after creating the user returned no id.
    const sql = cleanupSql(this.email, ids, this.codes);
    const res = await this.ssoSql(sql);
    if (res.exitCode !== 0)
      left.push(`the account ${this.email} (${res.stderr.trim().split('\n')[0] ?? 'psql failed'})`);
    const removed = res.exitCode === 0 ? Number(res.stdout.trim().split('\n').pop()) : 0;
    this.record(
      'journey.cleanup',
      left.length === 0
        ? pass(
            removed > 0
              ? `${this.email} removed with its sessions${this.mailIds.length ? ' and its mail' : ''}`
              : 'nothing was created',
          )
        : fail(
            `left behind: ${left.join('; ')}`,
            `remove it by hand in ${db.pod} (table "user", email ${this.email})`,
          ),
    );
  }
}
