// The SSO's schema push (drizzle-kit push), run by the migrate container with `node -e`, that fails
// unless drizzle-kit applied the schema. drizzle-kit 0.28 exits 0 when it cannot connect (TypeError:
// Invalid URL, password authentication failed, ECONNREFUSED) and when a statement fails: it prints
// the error and stops. Without a terminal it waits for ever at its data-loss question. So: success
// only on its own "[✓] Changes applied" or "[i] No changes detected" with exit 0; at the question it
// is stopped (nothing applied yet) and the statements are named. TASKFLOW_ACCEPT_DATA_LOSS=true
// (npm run migrate -- sso --accept-data-loss) passes --force, drizzle-kit's own yes to that question.
'use strict';
const { spawn } = require('node:child_process');

const args = ['push', '--config=drizzle.config.ts'];
const acceptDataLoss = process.env.TASKFLOW_ACCEPT_DATA_LOSS === 'true';
if (acceptDataLoss) args.push('--force');
const child = spawn('./node_modules/.bin/drizzle-kit', args, { stdio: ['pipe', 'pipe', 'pipe'] });
let out = '';
let asked = false;

function onData(chunk, stream) {
  const text = chunk.toString('utf8');
  out += text;
  stream.write(text);
  // The question, or any prompt of drizzle-kit's (it hides the cursor to draw one): nobody can answer.
  if (!asked && (out.includes('Do you still want to push changes?') || out.includes('\u001b[?25l'))) {
    asked = true;
    child.kill('SIGTERM');
  }
}
child.stdout.on('data', (c) => onData(c, process.stdout));
child.stderr.on('data', (c) => onData(c, process.stderr));
child.on('error', (err) => {
  console.error(`migrate: could not run drizzle-kit: ${err.message}`);
  process.exit(1);
});
child.on('close', (code) => {
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  if (asked) {
    const statements = plain
      .split('\n')
      .filter((l) => l.startsWith('\u00b7 '))
      .map((l) => `  ${l.slice(2).trim()}`);
    console.error(
      [
        '',
        'migrate: the schema push stopped at drizzle-kit\u2019s data-loss question, which needs a terminal; nothing was applied.',
        ...(statements.length > 0 ? ['It would:', ...statements] : []),
        'To apply it on purpose (the SSO database is backed up first): npm run migrate -- sso --accept-data-loss',
      ].join('\n'),
    );
    process.exit(1);
  }
  if (code === 0 && /\[\u2713\] Changes applied|\[i\] No changes detected/.test(plain)) process.exit(0);
  console.error(
    `\nmigrate: drizzle-kit push did not apply the schema (exit ${code}; it exits 0 on errors too): its message is above.`,
  );
  process.exit(1);
});
