import { sqlIdent, sqlLiteral } from '../db.ts';
import { Secret } from '../secrets.ts';

/**
 * psql inside the postgres container over its trusted local socket, as the image's superuser
 * (POSTGRES_USER of the pod), SQL read from stdin: no password is needed and none is in argv.
 */
export const PSQL_SOCKET_SCRIPT =
  'exec psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" "$@"';

/** argv (after `kubectl exec -i POD -c postgres --`) of psql over the local socket; `extra` are psql flags. */
export function psqlCommand(extra: string[] = []): string[] {
  return ['sh', '-c', PSQL_SOCKET_SCRIPT, 'psql', ...extra];
}

/** The statement that sets a role's password, as a Secret: it goes to psql's stdin only. */
export function alterRoleSql(role: string, password: Secret): Secret {
  return new Secret(`ALTER ROLE ${sqlIdent(role)} WITH PASSWORD ${sqlLiteral(password.reveal())};\n`);
}

/** The query that reads a role's stored verifier (SCRAM or md5), one value per line. */
export function verifierSql(role: string): string {
  return `SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = ${sqlLiteral(role)};\n`;
}
