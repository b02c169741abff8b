// `npm run demo`: reads the demo's flags (or their environment variables), then serves the demo app.
import { parseArgs } from 'node:util';
import { createDemoApp } from './app.js';
import type { DemoOptions } from './app.js';

const USAGE = `Usage: npm run demo -- --client-id ID [--client-secret SECRET] [--issuer URL] [--port PORT]

  --issuer URL            Twofold's issuer (DEMO_ISSUER, default http://localhost:3000)
  --client-id ID          client registered at Twofold (DEMO_CLIENT_ID, required)
  --client-secret SECRET  its secret (DEMO_CLIENT_SECRET; leave out for a public client)
  --port PORT             port the demo listens on (DEMO_PORT, default 3001)
  -h, --help              show this help`;

/** A command-line problem, reported as a message and exit code 2 rather than a stack trace. */
class UsageError extends Error {}

/** Turns flags, falling back to environment variables, into validated demo options. */
function parseDemoOptions(args: string[], env: NodeJS.ProcessEnv): (DemoOptions & { port: number }) | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const pick = (flag: string, name: string) => {
    const value = (values[flag] as string | undefined) ?? env[name];
    return value?.trim() ? value.trim() : undefined;
  };

  const port = pick('port', 'DEMO_PORT') ?? '3001';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new UsageError(`--port (DEMO_PORT) must be a port number from 1 to 65535, got "${port}".`);
  }
  const issuer = parseIssuer(pick('issuer', 'DEMO_ISSUER') ?? 'http://localhost:3000');
  const baseUrl = new URL(`http://localhost:${port}`);
  const clientId = pick('client-id', 'DEMO_CLIENT_ID');
  if (!clientId) {
    const extraFlags = [
      issuer.href === 'http://localhost:3000/' ? '' : ` --issuer ${issuer.href}`,
      port === '3001' ? '' : ` --port ${port}`,
    ].join('');
    throw new UsageError(
      [
        'The demo needs a client registered at Twofold. Register one (it prints the client id and secret):',
        '',
        `  npm run cli -- clients add --name "Demo app" --redirect-uri ${new URL('/callback', baseUrl).href} --post-logout-redirect-uri ${baseUrl.href} --first-party`,
        '',
        'then start the demo with them:',
        '',
        `  npm run demo -- --client-id ... --client-secret ...${extraFlags}`,
        '',
        '(or set DEMO_CLIENT_ID and DEMO_CLIENT_SECRET).',
      ].join('\n'),
    );
  }
  return { issuer, clientId, clientSecret: pick('client-secret', 'DEMO_CLIENT_SECRET'), baseUrl, port: Number(port) };
}

function parseIssuer(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--issuer (DEMO_ISSUER) must be a URL such as http://localhost:3000, got "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--issuer (DEMO_ISSUER) must be an http or https URL, got "${value}".`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`--issuer (DEMO_ISSUER) must not contain credentials, a query or a fragment, got "${value}".`);
  }
  return url;
}

function main(): void {
  let options: ReturnType<typeof parseDemoOptions>;
  try {
    options = parseDemoOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\nRun "npm run demo -- --help" for all options.`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const { port, ...demo } = options;
  if (demo.issuer.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(demo.issuer.hostname)) {
    console.warn(`Warning: ${demo.issuer.origin} is plain http on another machine; use https anywhere but development.`);
  }
  const server = createDemoApp(demo).listen(port, () => {
    const kind = demo.clientSecret ? 'confidential' : 'public';
    console.log(`Twofold demo app on ${demo.baseUrl.href} (issuer ${demo.issuer.href.replace(/\/$/, '')}, ${kind} client ${demo.clientId})`);
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    const reason = err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${err.code ?? err.message})`;
    console.error(`Port ${port} ${reason}; pick another with --port and register the matching redirect URI.`);
    process.exit(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => server.close(() => process.exit(0)).closeAllConnections());
  }
}

main();
