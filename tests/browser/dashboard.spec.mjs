// Browser test of the mayors' dashboard (run by dashboard_browser_test,
// which starts the nodes and ruta-dashboard): headless Debian Chromium
// through playwright-core. Usage: node dashboard.spec.mjs EXPECTED.json
// where EXPECTED.json holds the URLs, the account, and the cases seeded per
// region and stage. Exit code 0 iff every check passed; the last line says
// "N passed, M failed".
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const expected = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const k = expected.threshold;
let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   - ${name}`);
  } else {
    failed++;
    console.log(`FAIL - ${name}${detail ? ': ' + detail : ''}`);
  }
}

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  }
}

// RFC 4180 CSV parser (quoted fields, doubled quotes, CRLF).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

// What a cell must show for a true count n.
function okText(text, n) {
  if (n === 0) return text === '0' || text === `<${k}`;
  if (n < k) return text === `<${k}`;
  return text === String(n);
}
function describe(n) {
  if (n === 0) return `"0" or "<${k}"`;
  return n < k ? `"<${k}"` : `"${n}"`;
}

function quarterBefore(q) {
  const year = Number(q.slice(0, 4));
  const quarter = Number(q.slice(5));
  return quarter > 1 ? `${year}Q${quarter - 1}` : `${year - 1}Q4`;
}

// The rendered table of section `name`: header and rows of cell texts.
async function readTable(page, name) {
  return page.$eval(`section[data-name="${name}"] table.data`, (table) => ({
    header: Array.from(table.querySelectorAll('thead th')).map((c) => c.textContent),
    rows: Array.from(table.querySelectorAll('tbody tr')).map((tr) => ({
      cells: Array.from(tr.children).map((c) => c.textContent),
      total: tr.classList.contains('total'),
    })),
  }));
}

// Checks the stage table against the seeded cases of `regions`, counting
// them only when `inRange` (the quarter filter includes their quarter).
function checkFigures(label, table, regions, inRange) {
  const byLabel = {};
  for (const [stage, text] of Object.entries(expected.stageLabels)) byLabel[text] = stage;
  const want = (stage) => inRange
    ? regions.reduce((sum, r) => sum + ((expected.seeded[r] || {})[stage] || 0), 0)
    : 0;
  check(`${label}: header is Etapa, Casos`, table.header[0] === 'Etapa' && table.header[1] === 'Casos',
    JSON.stringify(table.header));
  const seen = new Set();
  let grand = 0;
  let numbers = 0;
  let suppressed = 0;
  for (const row of table.rows.filter((r) => !r.total)) {
    const stage = byLabel[row.cells[0]];
    if (!stage) {
      check(`${label}: row "${row.cells[0]}" is a known stage`, false);
      continue;
    }
    seen.add(stage);
    const n = want(stage);
    grand += n;
    const text = row.cells[1];
    if (text === `<${k}`) suppressed++;
    else if (/^\d+$/.test(text) && Number(text) >= k) numbers++;
    check(`${label}: ${stage} shows ${describe(n)}`, okText(text, n), `shown "${text}"`);
  }
  const seededStages = new Set(regions.flatMap((r) => Object.keys(expected.seeded[r] || {})));
  for (const stage of seededStages) {
    check(`${label}: a row for seeded stage ${stage}`, seen.has(stage));
  }
  const totals = table.rows.filter((r) => r.total);
  check(`${label}: one totals row`, totals.length === 1, `${totals.length} rows`);
  if (totals.length === 1) {
    check(`${label}: total shows ${describe(grand)}`, okText(totals[0].cells[1], grand),
      `shown "${totals[0].cells[1]}"`);
  }
  if (inRange) {
    check(`${label}: at least one released figure >= ${k} and one "<${k}"`, numbers > 0 && suppressed > 0,
      `${numbers} figures, ${suppressed} suppressed`);
  }
}

async function waitReady(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
}

async function login(page, base, password) {
  await page.goto(base + '/');
  await page.waitForURL((u) => u.pathname === '/login');
  await page.fill('#user', expected.user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#login-form button[type=submit]')]);
}

async function applyFilters(page, regions, from, to) {
  for (const slug of Object.keys(expected.regions)) {
    const box = page.locator(`#filters input[name=region][value="${slug}"]`);
    if (regions.includes(slug)) await box.check(); else await box.uncheck();
  }
  await page.selectOption('#from', from);
  await page.selectOption('#to', to);
  await page.click('#filters button[type=submit]');
  await page.waitForTimeout(50);
  await waitReady(page);
}

const browser = await chromium.launch({
  executablePath: expected.chromium,
  headless: true,
  // The dashboard's HTTPS certificate is self-signed: without this flag
  // Chromium cancels downloads from it even with ignoreHTTPSErrors.
  args: ['--no-sandbox', '--ignore-certificate-errors'],
});
const consoleErrors = [];
try {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
    locale: 'es-PE',
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const base = expected.url;

  await step('wrong password is refused', async () => {
    await login(page, base, expected.password + 'x');
    const message = await page.textContent('#login-message');
    check('wrong password is refused with the generic message',
      new URL(page.url()).pathname === '/login' && message === 'Usuario o contraseña incorrectos.',
      `at ${page.url()}, message "${message}"`);
    const cookies = await context.cookies();
    check('no session cookie after a wrong password', !cookies.some((c) => c.name === 'ruta_session'));
  });

  await step('login', async () => {
    await login(page, base, expected.password);
    check('login lands on the dashboard', new URL(page.url()).pathname === '/', page.url());
    const session = (await context.cookies()).find((c) => c.name === 'ruta_session');
    check('session cookie is Secure, HttpOnly, SameSite=Strict',
      session && session.secure && session.httpOnly && session.sameSite === 'Strict',
      JSON.stringify(session && { secure: session.secure, httpOnly: session.httpOnly, sameSite: session.sameSite }));
    await waitReady(page);
  });

  {
    await step('tables render', async () => {
      const sections = await page.$$eval('section.table', (s) => s.map((x) => x.getAttribute('data-name')));
      check('the node\'s tables are listed', sections.includes(expected.table), JSON.stringify(sections));
      const errors = await page.$$eval('section.table .error', (e) => e.map((x) => x.textContent));
      check('no table shows an error', errors.length === 0, JSON.stringify(errors));
      const status = await page.isHidden('#status');
      check('no page-level error', status);
    });

    const section = `section[data-name="${expected.table}"]`;
    const all = Object.keys(expected.regions);
    await step('filters and figures (both regions)', async () => {
      await applyFilters(page, all, expected.quarter, expected.quarter);
      const table = await readTable(page, expected.table);
      checkFigures('both regions', table, all, true);
      const meta = await page.textContent(`${section} .meta`);
      check(`threshold ${k} is stated`, meta.includes(`Umbral de publicación: ${k} casos`), meta);
      check('both regions are named', all.every((r) => meta.includes(expected.regions[r])), meta);
      const warnings = await page.$$eval(`${section} .warning`, (w) => w.map((x) => x.textContent));
      check('no stale or missing region warning', warnings.length === 0, JSON.stringify(warnings));
    });

    await step('chart renders', async () => {
      const painted = await page.waitForFunction((sel) => {
        const canvas = document.querySelector(sel + ' canvas');
        if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
        return n > 500 ? n : 0;
      }, section, { timeout: 10000 }).then((h) => h.jsonValue()).catch(() => 0);
      check('the bar chart canvas has painted pixels', painted > 500, `${painted} pixels`);
    });

    await step('CSV download matches the table', async () => {
      const table = await readTable(page, expected.table);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`${section} a.csv`),
      ]);
      fs.mkdirSync(expected.downloads, { recursive: true });
      const file = path.join(expected.downloads, download.suggestedFilename());
      await download.saveAs(file);
      check('CSV file name', download.suggestedFilename() === `${expected.table}.csv`, download.suggestedFilename());
      const csv = parseCsv(fs.readFileSync(file, 'utf8'));
      const shown = [table.header, ...table.rows.map((r) => r.cells)];
      check('CSV equals the released table shown (header, rows, "<k")',
        JSON.stringify(csv) === JSON.stringify(shown),
        `csv ${JSON.stringify(csv)} vs shown ${JSON.stringify(shown)}`);
      check('CSV carries suppressed cells as "<k"', csv.some((r) => r.includes(`<${k}`)));
    });

    await step('region filter (Cusco only)', async () => {
      await applyFilters(page, ['cusco'], expected.quarter, expected.quarter);
      checkFigures('Cusco only', await readTable(page, expected.table), ['cusco'], true);
    });

    await step('quarter filter (a quarter without cases)', async () => {
      const before = quarterBefore(expected.quarter);
      await applyFilters(page, all, before, before);
      checkFigures(`quarter ${before}`, await readTable(page, expected.table), all, false);
    });

    await step('screenshot', async () => {
      await applyFilters(page, all, expected.quarter, expected.quarter);
      // The top of the page (first tables) for the docs, and the whole page.
      await page.screenshot({ path: expected.screenshot, fullPage: true,
        clip: { x: 0, y: 0, width: 1200, height: 1500 } });
      const full = expected.screenshot.replace(/\.png$/, '-full.png');
      await page.screenshot({ path: full, fullPage: true });
      check('screenshots saved', fs.statSync(expected.screenshot).size > 10000 &&
        fs.statSync(full).size > 10000, `${expected.screenshot}, ${full}`);
    });

    await step('a peer that is down is warned about', async () => {
      // Madre de Dios' node stops; a quarter range the Cusco node never
      // fetched from it cannot include its counts.
      process.kill(expected.peerPid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const never = `${Number(expected.quarter.slice(0, 4)) - 1}Q1`;
      await applyFilters(page, all, never, never);
      const warnings = await page.$$eval(`${section} .warning`, (w) => w.map((x) => x.textContent));
      check('the missing region is named in a warning',
        warnings.some((w) => w.includes(`No se pudieron obtener los datos de ${expected.regions['madre-de-dios']}`)),
        JSON.stringify(warnings));
      const meta = await page.textContent(`${section} .meta`);
      check('only Cusco is counted', meta.startsWith(`Regiones: ${expected.regions.cusco}.`), meta);
    });
  }

  await step('no region selected', async () => {
    for (const slug of Object.keys(expected.regions)) {
      await page.locator(`#filters input[name=region][value="${slug}"]`).uncheck();
    }
    await page.click('#filters button[type=submit]');
    await waitReady(page);
    const status = await page.textContent('#status');
    const tables = await page.$$('section.table');
    check('without a region the page asks for one and shows no table',
      status === 'Seleccione al menos una región.' && tables.length === 0, `"${status}", ${tables.length} tables`);
  });

  await step('logout', async () => {
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.click('form.logout button')]);
    const notice = await page.textContent('#login-message');
    check('logout returns to the login page', notice === 'Sesión cerrada.', `"${notice}"`);
    const api = await page.evaluate(async () => (await fetch('/api/tables')).status);
    check('the API refuses after logout', api === 401, String(api));
  });

  await step('unreachable node is said plainly', async () => {
    const other = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    const p = await other.newPage();
    await login(p, expected.unreachableUrl, expected.password);
    await waitReady(p);
    const status = await p.textContent('#status');
    check('page says the node cannot be reached', /No se puede contactar al nodo regional/.test(status), `"${status}"`);
    const cookie = (await other.cookies()).find((c) => c.name === 'ruta_session');
    check('dev HTTP mode cookie is HttpOnly, SameSite=Strict, not Secure',
      cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && !cookie.secure);
    await other.close();
  });

  const csp = consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e));
  check('no Content-Security-Policy violation', csp.length === 0, JSON.stringify(csp));
  const scriptErrors = consoleErrors.filter((e) => !/status of (401|502)/.test(e) && !csp.includes(e));
  check('no script error in the page', scriptErrors.length === 0, JSON.stringify(scriptErrors));
} catch (e) {
  check('browser session', false, e.stack || String(e));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
