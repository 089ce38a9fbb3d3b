import { createHash } from 'node:crypto';

/**
 * The HTML report's inline stylesheet and script. Both are constants so the Content-Security-Policy
 * can allow exactly them by hash: nothing else runs or styles the page, and it fetches nothing.
 */

export const REPORT_CSS = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa;
  --passed: #1a7f37; --passed-bg: #dafbe1;
  --failed: #cf222e; --failed-bg: #ffebe9;
  --error: #9a6700; --error-bg: #fff8c5;
  --skipped: #59636e; --skipped-bg: #eff2f5;
  --flaky: #8250df; --flaky-bg: #fbefff;
  --none-bg: #ffffff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --passed: #3fb950; --passed-bg: #12261e;
    --failed: #f85149; --failed-bg: #2d1214;
    --error: #d29922; --error-bg: #2b2111;
    --skipped: #9198a1; --skipped-bg: #1c2128;
    --flaky: #ab7df8; --flaky-bg: #231a36;
    --none-bg: #0d1117;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; padding: 1.5rem; max-width: 1400px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .85rem; }
.sub { color: var(--muted); margin: 0 0 1rem; }
.totals { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; padding: 0; list-style: none; }
.totals li { border: 1px solid var(--line); border-radius: 8px; padding: .35rem .9rem; min-width: 6rem; background: var(--panel); }
.totals .n { display: block; font-size: 1.35rem; font-weight: 600; }
.totals .passed .n { color: var(--passed); } .totals .failed .n { color: var(--failed); }
.totals .error .n { color: var(--error); } .totals .flaky .n { color: var(--flaky); }
.totals .skipped .n { color: var(--skipped); }
.legend { display: flex; flex-wrap: wrap; gap: .4rem 1rem; padding: 0; margin: .5rem 0 1rem; list-style: none; color: var(--muted); }
.legend .badge { margin-right: .3rem; }
.toolbar { margin: .5rem 0; color: var(--muted); }
.scroll { display: inline-block; max-width: 100%; overflow: auto; max-height: 75vh; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; }
.matrix { min-width: 50%; }
.matrix th, .matrix td { border-bottom: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: middle; }
.matrix thead th { position: sticky; top: 0; background: var(--panel); z-index: 1; font-weight: 600; white-space: nowrap; }
.matrix tbody th { font-weight: normal; min-width: 16rem; }
.matrix tr.group th { background: var(--panel); font-weight: 600; }
.matrix tr.group .file { color: var(--muted); font-weight: normal; margin-left: .5rem; }
.cell { min-width: 6.5rem; white-space: nowrap; }
.cell a { display: block; padding: .15rem .45rem; border-radius: 6px; text-decoration: none; font-weight: 600; }
.cell a:focus-visible { outline: 2px solid var(--fg); outline-offset: 1px; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 6px; font-weight: 600; white-space: nowrap; }
.passed > a, .badge.passed { color: var(--passed); background: var(--passed-bg); }
.failed > a, .badge.failed { color: var(--failed); background: var(--failed-bg); }
.error > a, .badge.error { color: var(--error); background: var(--error-bg); }
.skipped > a, .badge.skipped { color: var(--skipped); background: var(--skipped-bg); }
.flaky > a, .badge.flaky { color: var(--flaky); background: var(--flaky-bg); }
.cell.none { color: var(--muted); background: var(--none-bg); }
body:has(#only-problems:checked) .matrix tr.ok { display: none; }
.failure { border-left: 4px solid var(--failed); background: var(--panel); padding: .6rem .9rem; margin: .75rem 0; border-radius: 0 8px 8px 0; }
.failure.error { border-left-color: var(--error); }
.failure h3 { margin-top: 0; }
.failure .msg { margin: .3rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.warn { color: var(--error); font-weight: 600; }
details.case { border: 1px solid var(--line); border-radius: 8px; margin: .4rem 0; background: var(--bg); }
details.case > summary { cursor: pointer; padding: .45rem .75rem; }
details.case:target { outline: 2px solid var(--fg); }
details.case[open] > summary { border-bottom: 1px solid var(--line); }
.case-body { padding: .5rem .9rem .9rem; }
.steps { width: 100%; margin: .4rem 0; }
.steps th, .steps td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
.steps th { color: var(--muted); font-weight: 600; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.transcript { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; max-height: 28rem; overflow: auto; }
.t-c { color: var(--flaky); } .t-s { color: var(--fg); } .t-note { color: var(--muted); font-style: italic; }
dialog { width: min(1100px, 94vw); max-height: 90vh; border: 1px solid var(--line); border-radius: 10px; padding: 0; background: var(--bg); color: var(--fg); }
dialog::backdrop { background: rgba(0, 0, 0, .45); }
dialog header { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .6rem .9rem; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--panel); }
dialog header h2 { margin: 0; border: 0; padding: 0; font-size: 1rem; }
dialog button { font: inherit; padding: .2rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); cursor: pointer; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; }
`;

/**
 * Enhancement only: a matrix cell opens its case in a modal dialog instead of jumping to the
 * case's details further down. Without JavaScript the links still lead there.
 */
export const REPORT_JS = `
(function () {
  var dialog = document.getElementById('case-dialog');
  if (!dialog || typeof dialog.showModal !== 'function') return;
  var title = document.getElementById('case-dialog-title');
  var body = document.getElementById('case-dialog-body');
  document.addEventListener('click', function (event) {
    var target = event.target;
    var link = target && target.closest ? target.closest('a[data-case]') : null;
    if (!link) return;
    var details = document.getElementById(link.getAttribute('data-case'));
    var content = details && details.querySelector('.case-body');
    if (!content) return;
    event.preventDefault();
    title.textContent = details.getAttribute('data-title') || '';
    body.replaceChildren(content.cloneNode(true));
    dialog.showModal();
  });
  document.getElementById('case-dialog-close').addEventListener('click', function () { dialog.close(); });
  dialog.addEventListener('click', function (event) { if (event.target === dialog) dialog.close(); });
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Allows the one stylesheet and the one script above; no fetches, frames, forms, plugins or base changes. */
export const REPORT_CSP = [
  "default-src 'none'",
  `style-src ${sha256(REPORT_CSS)}`,
  `script-src ${sha256(REPORT_JS)}`,
  "img-src 'none'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');
