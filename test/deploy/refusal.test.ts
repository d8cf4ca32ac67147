import { describe, expect, it } from 'vitest';
import { chartProblems, refusedConfiguration } from '../../lib/deploy/refusal.ts';
import { ExitCode } from '../../lib/errors.ts';
import { translateHelmError } from '../../lib/helm.ts';

const VALIDATION = `Error: UPGRADE FAILED: execution error at (taskflow/templates/validate.yaml:2:4): 

VALUES VALIDATION: 1 problem(s) in the values of release taskflow:

- sso.smtp.port: 465 means implicit TLS.
  hint: set sso.smtp.secure

Use --debug flag to render out invalid YAML`;

describe("a configuration the chart refuses, in the suite's words", () => {
  it.each([
    [
      "the chart's validation",
      VALIDATION,
      '- sso.smtp.port: 465 means implicit TLS.\n  hint: set sso.smtp.secure',
    ],
    [
      'the values schema (helm 4)',
      "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\ntaskflow:\n- at '/web/replicaCount': got string, want integer",
      "its values schema (values.schema.json):\n- at '/web/replicaCount': got string, want integer",
    ],
    [
      'a fail of a template',
      'Error: execution error at (taskflow/templates/secret.yaml:9:3): api.database.password is required',
      'api.database.password is required (taskflow/templates/secret.yaml:9:3)',
    ],
    [
      'a template that does not render',
      'Error: UPGRADE FAILED: template: taskflow/templates/x.yaml:3:4: executing "x" at <.Values.a.b>: nil pointer',
      'it does not render: template: taskflow/templates/x.yaml:3:4: executing "x" at <.Values.a.b>: nil pointer',
    ],
  ])('%s', (_name, stderr, problems) => {
    expect(chartProblems(stderr)).toBe(problems);
    const e = refusedConfiguration(stderr);
    expect(e?.exitCode).toBe(ExitCode.Usage);
    expect(e?.message).toMatch(/^the chart refuses this configuration \(nothing was changed\):\n {2}/);
    expect(e?.message).not.toMatch(/UPGRADE FAILED|INSTALLATION FAILED|--debug/);
  });

  it('a setting behind the value is named when no -f file sets it', () => {
    const e = refusedConfiguration(VALIDATION);
    expect(e?.message).toMatch(/\n\(set from the settings SMTP_PORT\)$/);
    expect(e?.hint).toBe('fix SMTP_PORT in the env file; npm run validate lists every problem');
  });

  it('not a refusal: a cluster or lock error stays with translateHelmError', () => {
    expect(chartProblems('Error: Kubernetes cluster unreachable: connection refused')).toBeUndefined();
    expect(
      chartProblems('Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress'),
    ).toBeUndefined();
  });

  it("the upgrade itself refused by the chart: exit 2, without helm's UPGRADE FAILED", () => {
    const e = translateHelmError(VALIDATION, { namespace: 'tf', release: 'taskflow' }, 'upgrade the release');
    expect(e.exitCode).toBe(ExitCode.Usage);
    expect(e.message).toMatch(/^the chart rejected its values:\nexecution error at/);
  });
});
