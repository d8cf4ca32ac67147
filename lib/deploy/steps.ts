import { APPS, DATABASES, type DbInfo, releaseSelector } from '../components.ts';
import { loginCheckCommand, psqlCommand } from '../db.ts';
import { AUTH_SECRET_LOCATION } from '../auth-secret.ts';
import {
  type Helm,
  type UpgradeOptions,
  helmUpgradeArgs,
  latestArgs,
  uninstallArgs,
  valuesArgs,
} from '../helm.ts';
import { dryRunArgs } from './diff.ts';
import {
  type Kubectl,
  REACHABLE_ARGS,
  execArgs,
  getOptionalArgs,
  listArgs,
  secretsArgs,
} from '../kubectl.ts';
import { secretReadArgs } from '../secret-resolution.ts';
import { type ExistingSecretRef, existingSecretReadArgs } from '../existing-secrets.ts';
import { STORAGE_CLASS_ARGS } from '../storage.ts';
import { NODE_IMAGES_ARGS } from '../images.ts';
import { leaseName, lockPlan } from '../release-lock.ts';
import type { PlannedBuild } from './build.ts';
import { dumpArgs, namespaceDeleteArgs, pvcDeleteArgs } from './fresh.ts';
import type { DeployOptions } from './options.ts';
import { healthPath } from './verify.ts';
import { WATCHED_KINDS } from './snapshot.ts';

/**
 * The steps of `npm run deploy`, in the order it runs them. The id is what a failure in the step is
 * reported as (`failures[].id` for the steps that end a deploy early); the title is what `--dry-run`
 * prints for it.
 */
export const DEPLOY_STEPS = {
  settings: 'settings checks of npm run validate: the first failure stops here (exit 2)',
  tools: 'find kubectl and helm, read the kube context',
  'cluster.reachable': 'the API server answers',
  'cluster.images':
    'on a local cluster, the TaskFlow images the release would run are on a node or name a registry; else they are built first when the TaskFlow source is known (--src, TASKFLOW_SRC), or the deploy stops here (exit 2)',
  'cluster.secrets':
    'the Secrets of yours the values name (existingSecret) exist and hold their key, with only URL-safe characters where a URL carries the value as it is (the SSO on Neon); their values are masked from here on, or the deploy stops here (exit 2)',
  'cluster.context':
    'the context may be written to: local, or named with --context / TASKFLOW_CONTEXT; then the release lock is taken (a Lease in the namespace), waiting while another writing command holds it (--no-wait: exit 2)',
  'auth.secret':
    'the BETTER_AUTH_SECRET to deploy decrypts the signing key the SSO signs with (kept in its database, encrypted with the secret it was made under), or there is none; else the deploy stops here (exit 2) with the ways out',
  'cluster.storageclass': 'the storage class of the database volumes exists',
  fresh: '--fresh: back up the databases, uninstall, delete the volumes and the namespace',
  secrets:
    'secrets not in the env file are read from the release, else generated (and saved to the env file)',
  'release.status': 'the release is not stuck in a pending state; its add-ons and built images are kept',
  diff: "compare with the installed release: the same inputs as its revision (chart, values, -f files, helm), else the chart rendered with these values (helm's server-side dry run) against its manifest; nothing to change skips the drift guard, the build and the upgrade (no new revision)",
  'db.password-drift': 'every database volume with data accepts the password being deployed',
  build: 'build the images (two at a time; a tag already in the store is reused)',
  'helm.upgrade': 'install or upgrade the release, the values on stdin',
  rollout: 'watch the rollout, failing at the first crash loop, pull error or unschedulable pod',
  verify: 'every database accepts its Secret password; every health endpoint answers',
  journey:
    "a person's journey as npm run verify walks it (sign-up, mail, sign-in, OAuth, the API, the apps; the throwaway account removed after): on a local cluster unless --no-verify, elsewhere only with --verify",
} as const;

export type DeployStep = keyof typeof DEPLOY_STEPS;

/** The options of deploy's `helm upgrade` (one source for the real run and the dry run). */
export function upgradeOptions(opts: DeployOptions, chart: string, valuesFiles: string[]): UpgradeOptions {
  return { chart, valuesFiles, createNamespace: true, timeout: opts.timeout };
}

/** A step as `--dry-run` shows it: its id, what it does, and the commands it runs (some only when...). */
export interface PlannedStep {
  id: DeployStep;
  title: string;
  commands: { argv: string[]; when?: string }[];
  /** What the step does besides the commands (waits, polls). */
  note?: string;
}

/**
 * The steps a deploy with these options would take, with the commands each runs, built by the same
 * functions the real run calls (the argv of each kubectl and helm call), so the two cannot drift.
 */
export function deployPlan(input: {
  kubectl: Kubectl;
  helm: Helm;
  opts: DeployOptions;
  upgrade: UpgradeOptions;
  /** the in-cluster databases the values manage (the drift guard and the verification cover them) */
  dbs: readonly DbInfo[];
  /** the builds of --build (undefined without --build) */
  builds?: readonly PlannedBuild[];
  /** the kept secrets the env file does not set: only then are the release's Secrets read */
  unset: readonly string[];
  /** the user's own Secrets the values name (existingSecret) */
  existing?: readonly ExistingSecretRef[];
}): PlannedStep[] {
  const { kubectl: k, helm, opts, dbs } = input;
  const { namespace } = k.target;
  const rel = helm.target.release;
  const step = (id: DeployStep, commands: PlannedStep['commands'] = [], note?: string): PlannedStep => ({
    id,
    title: DEPLOY_STEPS[id],
    commands,
    ...(note && { note }),
  });
  const login = (db: DbInfo, when: string) => [
    { argv: k.args(execArgs(db.pod, db.container, loginCheckCommand(db), true)), when },
  ];
  const steps: PlannedStep[] = [step('cluster.reachable', [{ argv: k.args(REACHABLE_ARGS, true) }])];
  if (!opts.build)
    steps.push(
      step('cluster.images', [{ argv: k.args(NODE_IMAGES_ARGS, true), when: 'the context is local' }]),
    );
  if (input.existing && input.existing.length > 0)
    steps.push(step('cluster.secrets', [{ argv: k.args(existingSecretReadArgs(input.existing)) }]));
  steps.push(
    step(
      'cluster.context',
      lockPlan(rel, namespace).map((c) => ({
        argv: k.args(c.args, c.clusterScoped),
        ...(c.when && { when: c.when }),
      })),
      `the lease's JSON on stdin; it names this command, host and pid (kubectl get lease ${leaseName(rel)} -n ${namespace})`,
    ),
  );
  if (!opts.fresh && !input.existing?.some((r) => r.envKey === 'BETTER_AUTH_SECRET')) {
    const sso = DATABASES.sso;
    steps.push(
      step(
        'auth.secret',
        [
          {
            argv: k.args(getOptionalArgs('secret', AUTH_SECRET_LOCATION.secret)),
            when: 'the env file sets BETTER_AUTH_SECRET (else the secrets step reads the release’s)',
          },
          { argv: k.args(execArgs(sso.pod, sso.container, psqlCommand(['-tA']), true)) },
        ],
        'the exec reads the signing key the SSO signs with (SQL on stdin); the secret is tried on it here, not in the cluster',
      ),
    );
  }
  steps.push(step('cluster.storageclass', [{ argv: k.args(STORAGE_CLASS_ARGS, true) }]));
  if (opts.fresh) {
    const backups = opts.backup
      ? Object.values(DATABASES).flatMap((db) => [
          ...(db.db === 'sso'
            ? [
                {
                  argv: k.args(getOptionalArgs('secret', AUTH_SECRET_LOCATION.secret)),
                  when: `volume ${db.pvc} exists (the fingerprint of BETTER_AUTH_SECRET for the backup's metadata)`,
                },
              ]
            : []),
          { argv: k.args(dumpArgs(db)), when: `volume ${db.pvc} exists (to backups/)` },
        ])
      : [];
    steps.push(
      step(
        'fresh',
        [
          ...backups,
          { argv: helm.argv(uninstallArgs(helm.target)) },
          ...pvcDeleteArgs(rel).map((a) => ({ argv: k.args(a) })),
          { argv: k.args(namespaceDeleteArgs(namespace), true) },
        ],
        `asks for the namespace name first (--yes answers); waits until namespace ${namespace} is gone`,
      ),
    );
  }
  steps.push(
    input.unset.length > 0
      ? step('secrets', [{ argv: k.args(secretReadArgs()) }], `for ${input.unset.join(', ')}`)
      : step('secrets', [], 'all three are set in the env file: nothing to read'),
    step('release.status', [
      { argv: helm.argv(latestArgs(helm.target)) },
      { argv: helm.argv(valuesArgs(helm.target, false)) },
    ]),
    step(
      'diff',
      [{ argv: dryRunArgs(helm, input.upgrade), when: 'the installed revision was made with other inputs' }],
      'the inputs are digested locally (no command); with nothing to change and the release deployed, the next steps are the rollout check and verify (started alongside)',
    ),
    step(
      'db.password-drift',
      dbs.flatMap((db) => [
        { argv: k.args(getOptionalArgs('pvc', db.pvc)) },
        { argv: k.args(getOptionalArgs('pod', db.pod)), when: `volume ${db.pvc} exists` },
        ...login(db, `pod ${db.pod} runs`),
      ]),
    ),
  );
  if (input.builds)
    steps.push(
      step(
        'build',
        input.builds.map((b) => ({ argv: b.argv })),
      ),
    );
  steps.push(
    step('helm.upgrade', [{ argv: helmUpgradeArgs(helm.bin, helm.major, helm.target, input.upgrade) }]),
    step(
      'rollout',
      [{ argv: k.args(listArgs(WATCHED_KINDS, releaseSelector(rel))) }],
      `polled until every workload is ready, or ${opts.timeout} pass`,
    ),
    step(
      'verify',
      [
        ...(dbs.length > 0 ? [{ argv: k.args(secretsArgs([...new Set(dbs.map((d) => d.secret))])) }] : []),
        ...dbs.flatMap((db) => login(db, `Secret ${db.secret} has the password`)),
      ],
      `the health endpoints through one kubectl proxy on a unix socket in a private folder (else kubectl get --raw each): ${APPS.map((a) => `GET ${healthPath(namespace, a)}`).join(', ')}`,
    ),
  );
  const journey = opts.journey ?? 'auto';
  if (journey !== 'never')
    steps.push(
      step(
        'journey',
        [],
        `${journey === 'always' ? 'asked for (--verify or TASKFLOW_VERIFY=always)' : 'on a local cluster only'}: npm run verify's steps through port-forwards on free local ports, a throwaway account removed after`,
      ),
    );
  return steps;
}
