import { OperationError } from '../errors.ts';
import type { Kubectl } from '../kubectl.ts';
import type { Secret } from '../secrets.ts';
import { type DbTarget, compareWithDatabase, tcpLogin } from './database.ts';
import { npmRun } from '../suggest.ts';

/** Confirms the database takes `password`: its stored verifier matches and a TCP login is not rejected. */
export async function verifyPassword(kubectl: Kubectl, t: DbTarget, password: Secret): Promise<void> {
  const agreement = await compareWithDatabase(kubectl, t, password);
  if (agreement.status === 'out-of-sync') {
    throw new OperationError(`verification failed: ${agreement.detail}`, {
      hint: npmRun('reset-db-password', t.info.db, '--check'),
    });
  }
  const login = await tcpLogin(kubectl, t, password);
  if (login.status === 'rejected') {
    throw new OperationError(`verification failed: ${login.detail}`, {
      hint: npmRun('reset-db-password', t.info.db, '--check'),
    });
  }
}
