import { sqlIdent, sqlLiteral } from '../db.ts';

export { PSQL_SOCKET_SCRIPT, psqlCommand, verifierSql } from '../db.ts';
import { Secret } from '../secrets.ts';

/** The statement that sets a role's password, as a Secret: it goes to psql's stdin only. */
export function alterRoleSql(role: string, password: Secret): Secret {
  return new Secret(`ALTER ROLE ${sqlIdent(role)} WITH PASSWORD ${sqlLiteral(password.reveal())};\n`);
}
