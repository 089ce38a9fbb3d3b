// Renders an example HTML report and its screenshot, docs/report.png, after `npm run build`:
// the bundled scenarios and one case that fails on purpose, run against two embedded servers.
// Usage: node scripts/report-screenshot.mjs [build folder, default dist]
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const build = resolve(root, process.argv[2] ?? 'dist');
const htmlPath = join(build, 'report.html');
const pngPath = join(root, 'docs', 'report.png');

const FAILING = `name: demo failure
timeout: 5s
cases:
  - name: mail for a user who does not exist is accepted (it should not be)
    steps:
      - send: EHLO client.test
        expect: 250
      - send: MAIL FROM:<tester@test.com>
        expect: 250
      - send: RCPT TO:<nobody@example.test>
        expect: 250
      - send: QUIT
        expect: 221
`;

const load = (module) => import(pathToFileURL(join(build, 'src', module)).href);

async function main() {
  if (!existsSync(join(build, 'src', 'report', 'html.js'))) throw new Error(`no build in ${build}: run "npm run build" first`);
  // The browser is the browser test's, from the npm package, launched the same way (compiled with the tests).
  const { launchChromium } = await import(pathToFileURL(join(build, 'test', 'helpers', 'chromium.js')).href);
  const [{ loadScenarios, parseScenario }, { withTargets }, { runWork }, { HtmlReporter }, { fileSink }, embedded] = await Promise.all(
    ['scenario/load.js', 'engine/plan.js', 'engine/run.js', 'report/html.js', 'report/sink.js', 'server/embedded.js'].map(load),
  );
  process.chdir(root);
  const files = ['auth', 'basic-conversation', 'capabilities', 'dsn-request', 'mail-parameters', 'pipelining', 'rejected-recipient', 'smuggling', 'starttls', 'unknown-command'];
  const scenarios = await loadScenarios(files.map((name) => `scenarios/${name}.yaml`), { env: {}, ca: [embedded.embeddedCaFile()] });
  // First, so the screenshot shows a failing row.
  scenarios.unshift(parseScenario(FAILING, 'demo-failure.yaml', { env: {} }));
  const servers = [await embedded.startEmbeddedServer(), await embedded.startEmbeddedServer()];
  try {
    const items = servers.flatMap((server) => withTargets(scenarios, { host: server.host, port: server.port }));
    const result = await runWork(items, { reporter: new HtmlReporter(fileSink(htmlPath), { title: 'smtpspec report: example' }) });
    console.log(`${result.counts.passed} passed, ${result.counts.failed + result.counts.errors} failed; wrote ${htmlPath}`);
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
  await screenshot(await launchChromium());
  console.log(`wrote ${pngPath}`);
}

async function screenshot(browser) {
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, colorScheme: 'light' });
    await page.goto(pathToFileURL(htmlPath).href);
    await mkdir(join(root, 'docs'), { recursive: true });
    await page.screenshot({ path: pngPath, timeout: 10_000 });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`report-screenshot: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
