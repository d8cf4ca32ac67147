// A Mailpit stand-in for the simulated cluster (the program of image axllent/mailpit, run with tsx): SMTP on
// port 1025 and Mailpit's v1 HTTP API on port 8025, both on the pod IP. What it answers follows
// Mailpit's API documentation (server/ui/api/v1/swagger.json of axllent/mailpit): GET
// /api/v1/messages, GET /api/v1/message/{ID} (or `latest`, marking it read), GET /api/v1/search
// (to:, from:, subject: and plain words, all of them), DELETE /api/v1/messages ({"IDs": [...]}, none:
// all) and DELETE /api/v1/search, with its field names; /readyz and /livez for the probes. It reads
// Mailpit's own settings: MP_SMTP_AUTH_ACCEPT_ANY (any login, or none) and MP_SMTP_AUTH_ALLOW_INSECURE
// (a login without TLS), and, like Mailpit, refuses to start with the first and not the second (no TLS
// is set). Without ACCEPT_ANY it offers no AUTH; it never offers STARTTLS.
// The mail parts are the npm packages smtp-server and mailparser.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { type AddressObject, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const ip = process.env.KUBE_SIM_POD_IP ?? '127.0.0.1';
const on = (name: string): boolean => ['1', 'true'].includes((process.env[name] ?? '').toLowerCase());
const acceptAny = on('MP_SMTP_AUTH_ACCEPT_ANY');
const allowInsecure = on('MP_SMTP_AUTH_ALLOW_INSECURE');

// Mailpit's own check of its settings (config/config.go): a login without TLS must be allowed.
if (acceptAny && !allowInsecure) {
  console.error(
    'error [smtp] authentication requires STARTTLS or TLS encryption, run with `--smtp-auth-allow-insecure` to allow insecure authentication',
  );
  process.exit(1);
}

interface Address {
  Name: string;
  Address: string;
}
interface Summary {
  ID: string;
  MessageID: string;
  From: Address;
  To: Address[];
  Cc: Address[];
  Bcc: Address[];
  ReplyTo: Address[];
  Subject: string;
  Tags: string[];
  Username: string;
  Size: number;
  Read: boolean;
  Created: string;
  Attachments: number;
  Snippet: string;
}
interface Entry {
  summary: Summary;
  message: Record<string, unknown>;
  text: string;
}
const store: Entry[] = [];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newId = () => [...randomBytes(22)].map((b) => ALPHABET[b % ALPHABET.length]).join('');

const addresses = (list: AddressObject | AddressObject[] | undefined): Address[] =>
  (Array.isArray(list) ? list : list ? [list] : [])
    .flatMap((l) => l.value)
    .map((a) => ({ Name: a.name ?? '', Address: a.address ?? '' }));

const smtp = new SMTPServer({
  banner: 'Mailpit ESMTP Service ready',
  authOptional: true,
  allowInsecureAuth: allowInsecure,
  disabledCommands: ['STARTTLS', ...(acceptAny ? [] : ['AUTH'])],
  onAuth(auth, _session, cb) {
    cb(null, { user: auth.username });
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', async () => {
      const raw = Buffer.concat(chunks);
      try {
        const mail = await simpleParser(raw);
        const id = newId();
        const created = new Date().toISOString();
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const from = addresses(mail.from)[0] ?? { Name: '', Address: envelopeFrom };
        const text = mail.text ?? '';
        const common = {
          ID: id,
          MessageID: (mail.messageId ?? '').replace(/^<|>$/g, ''),
          From: from,
          To: addresses(mail.to),
          Cc: addresses(mail.cc),
          Bcc: [],
          ReplyTo: addresses(mail.replyTo),
          Subject: mail.subject ?? '',
          Tags: [],
          Username: session.user ?? '',
          Size: raw.length,
        };
        store.unshift({
          text,
          summary: {
            ...common,
            Read: false,
            Created: created,
            Attachments: mail.attachments.length,
            Snippet: text.replace(/\s+/g, ' ').trim().slice(0, 250),
          },
          message: {
            ...common,
            ReturnPath: envelopeFrom,
            Date: (mail.date ?? new Date(created)).toISOString(),
            ListUnsubscribe: { Header: '', Links: [], Errors: '', HeaderPost: '' },
            Text: text,
            HTML: typeof mail.html === 'string' ? mail.html : '',
            Inline: [],
            Attachments: [],
          },
        });
        console.log(
          `[smtpd] message received from ${from.Address} to ${common.To.map((t) => t.Address).join(', ')}`,
        );
        cb();
      } catch (err) {
        cb(err instanceof Error ? err : new Error(String(err)));
      }
    });
  },
});

/** Mailpit's search: to:, from:, subject: (quoted or one word) and plain words; every term must match. */
function matches(entry: Entry, query: string): boolean {
  const terms = [...query.matchAll(/(\w+:)?("([^"]*)"|\S+)/g)].map((m) => ({
    field: m[1]?.slice(0, -1).toLowerCase(),
    value: (m[3] ?? m[2] ?? '').toLowerCase(),
  }));
  const s = entry.summary;
  const addr = (list: Address[]): string => list.map((a) => `${a.Name} ${a.Address}`.toLowerCase()).join(' ');
  return terms.every(({ field, value }) => {
    if (field === 'to') return addr(s.To).includes(value);
    if (field === 'from') return addr([s.From]).includes(value);
    if (field === 'subject') return s.Subject.toLowerCase().includes(value);
    return `${s.Subject} ${entry.text}`.toLowerCase().includes(value);
  });
}

function summaryOf(list: Entry[], start: number, limit: number) {
  return {
    total: store.length,
    unread: store.filter((e) => !e.summary.Read).length,
    messages_count: list.length,
    messages_unread: list.filter((e) => !e.summary.Read).length,
    start,
    tags: [],
    messages: list.slice(start, start + limit).map((e) => e.summary),
  };
}

const readBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });

const web = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://mailpit');
  const json = (code: number, doc: unknown) =>
    res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc));
  const text = (code: number, body: string) =>
    res.writeHead(code, { 'Content-Type': 'text/plain' }).end(body);
  const start = Number(url.searchParams.get('start') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? 50);
  if (url.pathname === '/readyz' || url.pathname === '/livez') return text(200, 'ok');
  if (url.pathname === '/api/v1/messages' && req.method === 'GET')
    return json(200, summaryOf(store, start, limit));
  if (url.pathname === '/api/v1/messages' && req.method === 'DELETE') {
    const body = await readBody(req);
    const ids = body ? ((JSON.parse(body) as { IDs?: string[] }).IDs ?? []) : [];
    const keep = ids.length === 0 ? [] : store.filter((e) => !ids.includes(e.summary.ID));
    store.splice(0, store.length, ...keep);
    return text(200, 'ok');
  }
  if (url.pathname === '/api/v1/search') {
    const query = url.searchParams.get('query') ?? '';
    if (query.trim() === '') return text(400, 'no search query');
    const found = store.filter((e) => matches(e, query));
    if (req.method === 'DELETE') {
      store.splice(0, store.length, ...store.filter((e) => !found.includes(e)));
      return text(200, 'ok');
    }
    return json(200, summaryOf(found, start, limit));
  }
  const one = /^\/api\/v1\/message\/([^/]+)$/.exec(url.pathname);
  if (one && req.method === 'GET') {
    const entry = one[1] === 'latest' ? store[0] : store.find((e) => e.summary.ID === one[1]);
    if (!entry) return text(404, 'message not found');
    entry.summary.Read = true;
    return json(200, entry.message);
  }
  text(404, 'not found');
});

process.on('SIGTERM', () => {
  smtp.close(() => undefined);
  web.close(() => process.exit(0));
});

smtp.listen(1025, ip, () =>
  console.log(`[smtpd] starting on ${ip}:1025 (auth: ${acceptAny ? 'accept any' : 'off'})`),
);
web.listen(8025, ip, () => console.log(`[http] starting on ${ip}:8025`));
