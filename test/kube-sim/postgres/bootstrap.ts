import pg from 'pg';
import { scramVerifier } from './scram.ts';
import { TEMPLATE_SUPERUSER } from './template.ts';

export interface PostgresEnv {
  POSTGRES_USER?: string;
  POSTGRES_PASSWORD?: string;
  POSTGRES_DB?: string;
}

/** The official image's refusal to initialise without a password (its container then exits 1). */
export const NO_PASSWORD_MESSAGE =
  'Error: Database is uninitialized and superuser password is not specified.\n' +
  '       You must specify POSTGRES_PASSWORD to a non-empty value for the\n' +
  '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".';

const BOOT_ROLE = 'kube_sim_bootstrap';

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function withClient<T>(
  socketDir: string,
  port: number,
  user: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ host: socketDir, port, user, database: 'postgres' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Turns a copied template cluster into what the official image's first start leaves:
 * POSTGRES_USER as the bootstrap superuser (OID 10) with POSTGRES_PASSWORD, and
 * POSTGRES_DB (default: the user name) owned by it.
 */
export async function bootstrapCluster(socketDir: string, port: number, env: PostgresEnv): Promise<void> {
  const user = env.POSTGRES_USER || 'postgres';
  const db = env.POSTGRES_DB || user;
  const password = env.POSTGRES_PASSWORD ?? '';
  let current = TEMPLATE_SUPERUSER;
  if (user !== TEMPLATE_SUPERUSER) {
    // A role cannot rename itself while logged in, so a helper superuser renames it.
    await withClient(socketDir, port, current, (c) => c.query(`CREATE ROLE ${BOOT_ROLE} SUPERUSER LOGIN`));
    await withClient(socketDir, port, BOOT_ROLE, (c) =>
      c.query(`ALTER ROLE ${ident(TEMPLATE_SUPERUSER)} RENAME TO ${ident(user)}`),
    );
    current = user;
  }
  await withClient(socketDir, port, current, async (c) => {
    if (current !== TEMPLATE_SUPERUSER) await c.query(`DROP ROLE ${BOOT_ROLE}`);
    await c.query(`ALTER ROLE ${ident(user)} PASSWORD ${literal(scramVerifier(password))}`);
    if (db !== 'postgres') await c.query(`CREATE DATABASE ${ident(db)}`);
  });
}
