import { expect, test } from 'vitest';
import { chartDir, runHelm } from '../support/chart.ts';

/** NOTES.txt as `helm install` prints it (helm 4 renders it client-side without a cluster). */
async function notes(values: object, valuesFiles: string[] = []): Promise<string> {
  const args = ['install', 'tf', chartDir, '-n', 'team-a', '--dry-run=client', '-f', '-'];
  for (const f of valuesFiles) args.splice(args.length - 2, 0, '-f', `${chartDir}/${f}`);
  const r = await runHelm(args, { stdin: JSON.stringify(values) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.slice(r.stdout.indexOf('NOTES:'));
}

test('NOTES.txt shows the commands to run next: port-forward, doctor, kubectl fallbacks', async () => {
  const text = await notes({});
  expect(text).toContain('npm run doctor -- -n team-a --release tf');
  expect(text).toContain('npm run port-forward -- -n team-a --release tf');
  for (const line of [
    'kubectl -n team-a port-forward svc/web-dashboard 3000:3000',
    'kubectl -n team-a port-forward svc/sso-platform 3001:3001',
    'kubectl -n team-a port-forward svc/taskflow-api 8000:8000',
    'kubectl -n team-a port-forward svc/mcp-server 8001:8001',
  ]) {
    expect(text).toContain(line);
  }
  expect(text).toContain('npm run migrate -- sso -n team-a --release tf');
  expect(text).toContain('no SMTP server is set, so e-mail verification is off');
  expect(text).not.toContain('pgadmin');
});

test('NOTES.txt names the add-ons when on, and the https URLs with an ingress', async () => {
  const addons = await notes({ pgadmin: { enabled: true }, mailpit: { enabled: true } });
  expect(addons).toContain('kubectl -n team-a port-forward svc/pgadmin 5050:80');
  expect(addons).toContain('kubectl -n team-a port-forward svc/mailpit 8025:8025');
  // Any add-on that is on, from its definition: title, description, its forwarded ports.
  const data = await notes({
    addons: {
      whoami: {
        enabled: true,
        title: 'Whoami',
        description: 'Echoes each request.',
        image: 'traefik/whoami:v1.10.1',
        ports: [
          { name: 'http', port: 8080, forward: 8090 },
          { name: 'metrics', port: 9090 },
        ],
      },
    },
  });
  expect(data).toContain(
    '  Whoami: Echoes each request.\n  kubectl -n team-a port-forward svc/whoami 8090:8080',
  );
  expect(data).not.toContain('9090');
  expect(addons).not.toContain('e-mail verification is off');
  const prod = await notes({}, ['values-prod.yaml']);
  expect(prod).toContain('https://taskflow.example.com');
  expect(prod).toContain('https://sso.taskflow.example.com');
  expect(prod).toContain('https://api.taskflow.example.com/docs');
  expect(prod).toContain('npm run doctor -- -n team-a --release tf');
  expect(prod).not.toContain('port-forward svc/');
});

test('NOTES.txt: Mailpit on with an SMTP host says the host is set aside while Mailpit is on (the one SMTP rule)', async () => {
  const both = await notes({
    mailpit: { enabled: true },
    sso: { smtp: { host: 'smtp.example.com', user: 'u', password: 'p' } },
  });
  expect(both).toContain(
    'Note: Mailpit is on, so the SSO sends its mail to Mailpit (mailpit:1025); sso.smtp.host (smtp.example.com) is set aside until it is off:\n  npm run addon -- mailpit --remove -n team-a --release tf',
  );
  expect(await notes({ mailpit: { enabled: true } })).not.toContain('is set aside');
});
