// Every user command's spec, for tests that check all of them (help texts, suggested commands).
import { ADDON_SPEC, PGADMIN_SPEC } from '../../lib/addons/options.ts';
import type { CommandSpec } from '../../lib/cli.ts';
import { DB_SPEC } from '../../lib/database/spec.ts';
import { DEPLOY_SPEC } from '../../lib/deploy/spec.ts';
import { DOCTOR_SPEC } from '../../lib/doctor/spec.ts';
import { ENV_FLOW_SPEC } from '../../lib/env-flow/spec.ts';
import { LOGS_SPEC } from '../../lib/logs/spec.ts';
import { MIGRATE_SPEC } from '../../lib/migrate/spec.ts';
import { PORT_FORWARD_SPEC } from '../../lib/port-forward/options.ts';
import { VALIDATE_SPEC } from '../../lib/preflight/spec.ts';
import { RESET_SPEC } from '../../lib/reset-password/spec.ts';
import { RESET_AUTH_SPEC } from '../../lib/reset-auth-secret/spec.ts';
import { VERIFY_SPEC } from '../../lib/verify/spec.ts';

export const ALL_SPECS: readonly CommandSpec[] = [
  DEPLOY_SPEC,
  MIGRATE_SPEC,
  PGADMIN_SPEC,
  ADDON_SPEC,
  RESET_SPEC,
  RESET_AUTH_SPEC,
  PORT_FORWARD_SPEC,
  VALIDATE_SPEC,
  DOCTOR_SPEC,
  ENV_FLOW_SPEC,
  LOGS_SPEC,
  DB_SPEC,
  VERIFY_SPEC,
];
