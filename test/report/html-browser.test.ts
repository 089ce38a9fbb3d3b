import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { withTargets } from '../../src/engine/plan.js';
import { runWork } from '../../src/engine/run.js';
import type { RunResult } from '../../src/engine/results.js';
import { HtmlReporter } from '../../src/report/html.js';
import { fileSink } from '../../src/report/sink.js';
import { parseScenario } from '../../src/scenario/load.js';
import { launchChromium } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const HOSTILE_BANNER = '<script>alert("banner")</script>';

const GREETING = `name: greeting
timeout: 2s
cases:
  - name: greets and says goodbye
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - send: QUIT
        expect: 221
`;

const DELIVERY = `name: delivery
timeout: 2s
cases:
  - name: accepts a local recipient
    steps:
      - send: EHLO client.test
        expect: 250
      - send: MAIL FROM:<alice@client.test>
        expect: 250
      - send: RCPT TO:<bob@example.test>
        expect: 250
      - send: QUIT
        expect: 221
  - name: answers NOOP
    steps:
      - send: NOOP
        expect: 250
      - send: QUIT
        expect: 221
`;

/** Two real servers, one of which refuses every recipient and greets with markup; three cases against each. */
async function realRun(healthy: TestServer, refusing: TestServer, htmlPath: string): Promise<RunResult> {
  const scenarios = [parseScenario(GREETING, 'greeting.yaml', { env: {} }), parseScenario(DELIVERY, 'delivery.yaml', { env: {} })];
  const items = [healthy, refusing].flatMap((server) => withTargets(scenarios, { host: server.host, port: server.port }));
  return runWork(items, { reporter: new HtmlReporter(fileSink(htmlPath)) });
}

describe('the HTML report in a browser', { timeout: 60_000 }, () => {
  let healthy: TestServer;
  let refusing: TestServer;
  let dir: string;
  let browser: Browser | undefined;
  let page: Page;
  let result: RunResult;
  const requests: string[] = [];
  const problems: string[] = [];
  const alerts: string[] = [];

  before(async () => {
    healthy = await startTestServer();
    refusing = await startTestServer({ banner: HOSTILE_BANNER, onRcpt: () => ({ code: 550, message: 'Mailbox unavailable' }) });
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-html-browser-'));
    result = await realRun(healthy, refusing, join(dir, 'report.html'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.setDefaultTimeout(5_000);
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      alerts.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([healthy?.close(), refusing?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the run behind the report is real: the refusing server failed the RCPT case', () => {
    assert.deepEqual(
      result.cases.map((c) => `${c.caseName} ${c.target.kind === undefined ? c.target.port : ''} ${c.status}`),
      [
        `greets and says goodbye ${healthy.port} passed`,
        `accepts a local recipient ${healthy.port} passed`,
        `answers NOOP ${healthy.port} passed`,
        `greets and says goodbye ${refusing.port} passed`,
        `accepts a local recipient ${refusing.port} failed`,
        `answers NOOP ${refusing.port} passed`,
      ],
    );
  });

  test('loads with no errors, no fetches and no script from the server', async () => {
    assert.equal(await page.title(), 'smtpspec report');
    assert.deepEqual(problems, []);
    assert.deepEqual(alerts, []);
    assert.deepEqual(requests, [page.url()], 'the only request is the file itself');
    assert.ok(page.url().startsWith('file://'));
  });

  test('has one cell per target and case, and marks exactly the failing one', async () => {
    assert.equal(await page.locator('table.matrix td.cell').count(), 2 * 3);
    assert.deepEqual(await page.locator('table.matrix thead th').allInnerTexts(), [
      'case',
      `127.0.0.1:${healthy.port}`,
      `127.0.0.1:${refusing.port}`,
    ]);
    const failed = page.locator('table.matrix td.cell.failed');
    assert.equal(await failed.count(), 1);
    assert.equal((await failed.innerText()).trim(), '✗ failed');
    assert.equal(await failed.locator('a').getAttribute('aria-label'), `accepts a local recipient @ 127.0.0.1:${refusing.port}: failed, open details`);
    assert.equal(await page.locator('table.matrix td.cell.passed').count(), 5);
  });

  test('styles the page from its inline stylesheet, in light and dark', async () => {
    const background = (): Promise<string> => page.locator('td.cell.failed a').evaluate((a) => getComputedStyle(a).backgroundColor);
    const light = await background();
    assert.notEqual(light, 'rgba(0, 0, 0, 0)', 'the stylesheet applied despite the strict policy');
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.notEqual(await background(), light);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('opens the failed case in a dialog with its transcript, the 5xx reply and the banner as text', async () => {
    const dialog = page.locator('dialog#case-dialog');
    assert.equal(await dialog.isVisible(), false);
    await page.locator('table.matrix td.cell.failed a').click();
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await dialog.locator('h2').innerText(), `accepts a local recipient @ 127.0.0.1:${refusing.port}`);
    const transcript = await dialog.locator('pre.transcript').innerText();
    assert.match(transcript, /C: RCPT TO:<bob@example\.test>/);
    assert.match(transcript, /S: 550 5\.1\.1 Mailbox unavailable/);
    assert.ok(transcript.includes(HOSTILE_BANNER), 'the hostile banner is shown as text');
    assert.match(await dialog.innerText(), /delivery\.yaml:\d+:\d+/);
    assert.deepEqual(alerts, []);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  test('without JavaScript, a cell still leads to the case details', async () => {
    const context = await browser!.newContext({ javaScriptEnabled: false });
    try {
      const plain = await context.newPage();
      plain.setDefaultTimeout(5_000);
      await plain.goto(page.url());
      const href = await plain.locator('table.matrix td.cell.failed a').getAttribute('href');
      assert.match(href ?? '', /^#case-\d+$/);
      await plain.locator('table.matrix td.cell.failed a').click();
      const details = plain.locator(`details${href}`);
      await details.locator('pre.transcript').waitFor({ state: 'visible' });
      assert.match(await details.locator('pre.transcript').innerText(), /S: 550 5\.1\.1 Mailbox unavailable/);
    } finally {
      await context.close();
    }
  });
});
