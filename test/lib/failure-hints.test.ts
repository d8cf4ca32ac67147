import { describe, expect, it } from 'vitest';
import {
  type LoginFact,
  crashHint,
  databaseOf,
  logsHint,
  loginFact,
  passwordHint,
} from '../../lib/failure-hints.ts';

const API_PW = 'FATAL:  password authentication failed for user "taskflow_user"';
const SSO_PW = 'error: password authentication failed for user "sso_user"';
const MODULE =
  'Traceback (most recent call last):\n  File "/app/main.py", line 3\nModuleNotFoundError: No module named \'asyncpg\'';
const at = (pod: string, logs: string, container?: string) => ({ pod, container, logs, namespace: 'tf' });

describe('the repair of a "password authentication failed" crash, from the login check', () => {
  it.each<[string, string, string, LoginFact[], string]>([
    [
      'the database rejects its Secret too: sync them',
      'taskflow-api-5d9f-x',
      API_PW,
      [{ db: 'api', state: 'rejected' }],
      'the api database rejects the password in its Secret too (login checked): make them agree: npm run reset-db-password -- api',
    ],
    [
      'it accepts its Secret: the pod has an older one, restart its Deployment',
      'taskflow-api-5d9f-x',
      API_PW,
      [{ db: 'api', state: 'accepted' }],
      'the api database accepts the password in its Secret (login checked), so this pod started with an older one: kubectl rollout restart deployment/taskflow-api -n tf',
    ],
    [
      'a migration Job pod that ran with an older one: run it again',
      'sso-migrate-manual-20250601-120000-ab12-x',
      SSO_PW,
      [{ db: 'sso', state: 'accepted' }],
      'the sso database accepts the password in its Secret (login checked), so this pod started with an older one: run it again: npm run migrate -- sso',
    ],
    [
      'the database pod is not running: not known, and what checks it',
      'taskflow-api-5d9f-x',
      API_PW,
      [{ db: 'api', state: 'unknown', why: 'api-postgres-0 is not running' }],
      'PostgreSQL rejects the password taskflow-api-5d9f-x was given; whether the api database accepts the one in its Secret is not known (api-postgres-0 is not running): npm run doctor -- -n tf checks it (db.auth) while api-postgres-0 runs, and names the repair',
    ],
    [
      'no check made for that database: not a guess either',
      'sso-platform-77-x',
      SSO_PW,
      [{ db: 'api', state: 'rejected' }],
      'PostgreSQL rejects the password sso-platform-77-x was given; whether the sso database accepts the one in its Secret is not known (no login check was made): npm run doctor -- -n tf checks it (db.auth) while sso-postgres-0 runs, and names the repair',
    ],
    [
      'neither the logs nor the pod name a database',
      'my-tool-1-x',
      'password authentication failed',
      [],
      'PostgreSQL rejects the password my-tool-1-x was given, and its logs do not say which database: npm run doctor -- -n tf checks both logins (db.auth) and names the repair',
    ],
  ])('%s', (_name, pod, logs, facts, hint) => {
    expect(passwordHint(at(pod, logs), facts)).toBe(hint);
    // a password change is never repaired by restarting the database
    expect(passwordHint(at(pod, logs), facts)).not.toMatch(/statefulset/);
  });

  it('the database pod logging its clients failures: restart the clients, never the StatefulSet', () => {
    expect(passwordHint(at('api-postgres-0', API_PW), [{ db: 'api', state: 'accepted' }])).toBe(
      'the api database accepts the password in its Secret (login checked), so this pod started with an older one: restart its clients: kubectl rollout restart deployment/taskflow-api -n tf',
    );
  });

  it('login results become facts: ok, rejected, unreachable or not run', () => {
    expect(loginFact('api', { status: 'ok' })).toEqual({ db: 'api', state: 'accepted' });
    expect(loginFact('api', { status: 'rejected', detail: 'x' })).toEqual({ db: 'api', state: 'rejected' });
    expect(loginFact('sso', { status: 'unreachable', detail: 'timeout' })).toEqual({
      db: 'sso',
      state: 'unknown',
      why: 'timeout',
    });
    expect(loginFact('sso', undefined, 'sso-postgres-0 is not running')).toEqual({
      db: 'sso',
      state: 'unknown',
      why: 'sso-postgres-0 is not running',
    });
  });

  it('the database: the user named in the logs first, then the pod', () => {
    expect(databaseOf('web-dashboard-1-x', API_PW)).toBe('api');
    expect(databaseOf('sso-platform-1-x', '')).toBe('sso');
    expect(databaseOf('web-dashboard-1-x', '')).toBeUndefined();
  });
});

describe('the hint the logs decide', () => {
  it('a ModuleNotFoundError is about the image, never the password', () => {
    const hint = logsHint(at('taskflow-api-5d9f-x', MODULE, 'taskflow-api'), [
      { db: 'api', state: 'rejected' },
    ]);
    expect(hint).toBe(
      "the image of taskflow-api lacks code it imports (ModuleNotFoundError: No module named 'asyncpg'): it was built from other sources or an incomplete build; rebuild it from your TaskFlow checkout: npm run deploy -- --build",
    );
    expect(crashHint(at('taskflow-api-5d9f-x', MODULE, 'taskflow-api'), [])).toBe(hint);
    expect(logsHint(at('mcp-server-1-x', "Error: Cannot find module 'express'", 'mcp-server'), [])).toMatch(
      /^the image of mcp-server lacks code it imports \(Error: Cannot find module 'express'\)/,
    );
  });

  it('logs that say nothing recognised: no hint of their own; a crash then says where to read more', () => {
    expect(logsHint(at('web-dashboard-1-x', 'segfault'), [])).toBeUndefined();
    expect(crashHint(at('web-dashboard-1-x', 'segfault', 'web-dashboard'), [])).toBe(
      'read the log lines above; more with: kubectl logs web-dashboard-1-x -c web-dashboard --previous -n tf',
    );
    expect(crashHint(at('sso-platform-1-x', 'TypeError: Invalid URL'), [])).toMatch(/a URL in its settings/);
  });
});
