/** The platform's components as the chart names them (charts/taskflow; contract in the chart's README). */

export type AppComponent = 'sso' | 'api' | 'mcp' | 'web';
export type DbName = 'sso' | 'api';

export interface AppInfo {
  component: AppComponent;
  /** Deployment, Service and main container name. */
  name: string;
  port: number;
  healthPath: string;
  /** Default local port for port-forward access. */
  localPort: number;
}

export const APPS: readonly AppInfo[] = [
  { component: 'web', name: 'web-dashboard', port: 3000, healthPath: '/', localPort: 3000 },
  { component: 'sso', name: 'sso-platform', port: 3001, healthPath: '/api/health', localPort: 3001 },
  { component: 'api', name: 'taskflow-api', port: 8000, healthPath: '/health', localPort: 8000 },
  { component: 'mcp', name: 'mcp-server', port: 8001, healthPath: '/health', localPort: 8001 },
];

/** Each application by its component (`APP.sso.name` is the SSO's Deployment, Service and container). */
export const APP: Readonly<Record<AppComponent, AppInfo>> = Object.fromEntries(
  APPS.map((a) => [a.component, a]),
) as Record<AppComponent, AppInfo>;

export interface DbInfo {
  db: DbName;
  statefulSet: string;
  pod: string;
  container: string;
  pvc: string;
  /** Secret and key holding the password (unless the release uses an existingSecret). */
  secret: string;
  secretKey: string;
  user: string;
  database: string;
  /** Env key of the settings file that holds this password. */
  envKey: 'POSTGRES_SSO_PASSWORD' | 'POSTGRES_API_PASSWORD';
  /** Where the chart's values configure it. */
  valuesKey: string;
  /** Deployments that read this database (restarted after a password change). */
  consumers: string[];
}

export const DATABASES: Record<DbName, DbInfo> = {
  sso: {
    db: 'sso',
    statefulSet: 'sso-postgres',
    pod: 'sso-postgres-0',
    container: 'postgres',
    pvc: 'data-sso-postgres-0',
    secret: 'sso-postgres',
    secretKey: 'password',
    user: 'sso_user',
    database: 'sso_db',
    envKey: 'POSTGRES_SSO_PASSWORD',
    valuesKey: 'sso.database',
    consumers: [APP.sso.name],
  },
  api: {
    db: 'api',
    statefulSet: 'api-postgres',
    pod: 'api-postgres-0',
    container: 'postgres',
    pvc: 'data-api-postgres-0',
    secret: 'api-postgres',
    secretKey: 'password',
    user: 'taskflow_user',
    database: 'taskflow_db',
    envKey: 'POSTGRES_API_PASSWORD',
    valuesKey: 'api.database',
    consumers: [APP.api.name],
  },
};

/** Label selector for every object of a release. */
export function releaseSelector(release: string): string {
  return `app.kubernetes.io/instance=${release}`;
}

/** Parses a database name given on the command line. */
export function isDbName(s: string | undefined): s is DbName {
  return s === 'sso' || s === 'api';
}
