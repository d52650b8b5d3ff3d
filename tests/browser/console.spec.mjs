// Browser test of the office console (run by console_browser_test, which
// starts the nodes and the consoles): headless Debian Chromium through
// playwright-core. Usage: node console.spec.mjs CONFIG.json where CONFIG.json
// holds the consoles' URLs, the clerks, the canary identifiers to type, the
// labels the pages use, and where to write screenshots and results (the case
// and transfer ids, for the driver's own checks). Exit code 0 iff every
// check passed; the last line says "N passed, M failed".
import fs from 'node:fs';
import net from 'node:net';
import { chromium } from 'playwright-core';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const labels = config.labels;
const canary = config.canary;
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

// Runs one part; an exception fails it (and, when `fatal`, the rest, which
// depends on it).
class Abort extends Error {}
async function step(name, fn, fatal = true) {
  const start = Date.now();
  try {
    await fn();
  } catch (e) {
    check(name, false, e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : String(e));
    if (fatal) throw new Abort(name);
  } finally {
    console.log(`#    ${name}: ${Date.now() - start} ms`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const results = {};
function saveResults() {
  fs.writeFileSync(config.results, JSON.stringify(results));
}

const browser = await chromium.launch({
  executablePath: config.chromium,
  headless: true,
  args: ['--no-sandbox', '--ignore-certificate-errors'],
});
const consoleErrors = [];
const offLoopback = [];

async function newContext() {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1200, height: 900 },
    locale: 'es-PE',
  });
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) offLoopback.push(request.url());
  });
  context.on('page', (page) => {
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });
  return context;
}

function path(page) {
  return new URL(page.url()).pathname;
}

// The console's session cookie is named after its region
// ("ruta_console_<region>"; "_login" ends the login form's CSRF cookie).
async function sessionCookie(context) {
  return (await context.cookies()).find(
      (c) => /^ruta_console_[a-z-]+$/.test(c.name) && !c.name.endsWith('_login'));
}

async function login(page, base, user, password) {
  await page.goto(base + '/');
  await page.waitForURL((u) => u.pathname === '/login');
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#login-form button[type=submit]')]);
}

// Submits `form` (a selector) with `button` and waits for the page the
// console sends the browser to; throws with the form's message when the
// console answers with an error instead.
async function submit(page, form, button = 'button[type=submit]') {
  await submitted(page, form, () => page.click(`${form} ${button}`));
}

// Runs `action` (which submits `form`) and waits for the next page, or
// throws with the form's error message.
async function submitted(page, form, action) {
  const navigation = page.waitForNavigation({ waitUntil: 'load', timeout: 20000 }).then(() => '');
  navigation.catch(() => {});
  await action();
  const error = page.waitForSelector(`${form} .form-mensaje.error`, { timeout: 20000 })
    .then(async (h) => `the console answered: "${await h.textContent()}"`);
  error.catch(() => {});
  const outcome = await Promise.race([navigation, error]);
  if (outcome) throw new Error(outcome);
}

// Reloads `url` until `selector` is on the page (federation between the
// nodes takes about a second); returns whether it appeared.
async function reloadUntil(page, url, selector, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(url);
    if (await page.$(selector)) return true;
    if (Date.now() > deadline) return false;
    await sleep(400);
  }
}

async function text(page, selector) {
  const h = await page.$(selector);
  return h ? (await h.textContent()).trim() : null;
}

// The values a form holds now, field by field.
async function formValues(page, form) {
  return page.$eval(form, (f) => Array.from(f.elements)
    .filter((e) => e.name && e.name !== 'csrf' && e.name !== 'request_id' && e.type !== 'submit')
    .map((e) => `${e.name}=${e.type === 'checkbox' ? e.checked : e.value}`));
}

// Whether the TCP port refuses connections (the node is gone).
function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

// Whether process `pid` (a child of the driver) has exited: gone, or a
// zombie until the driver reaps it.
function exited(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch (e) {
    return true;
  }
}

const caseUrl = (base) => `${base}/caso/${results.caseId}`;
const canaries = [canary.dni, canary.given, canary.surnames, canary.birth, canary.district,
  ...canary.given.split(' '), ...canary.surnames.split(' ')];

try {
  const mdd = await newContext();
  const page = await mdd.newPage();
  const base = config.mddUrl;

  await step('login is refused for a wrong password and a disabled account', async () => {
    await login(page, base, config.mddClerk.user, config.mddClerk.password + 'x');
    check('wrong password is refused with the generic message',
      path(page) === '/login' && await text(page, '#login-message') === 'Usuario o contraseña incorrectos.',
      `at ${page.url()}, "${await text(page, '#login-message')}"`);
    check('no session cookie after a wrong password', !(await sessionCookie(mdd)));
    await login(page, base, config.disabledClerk.user, config.disabledClerk.password);
    check('a disabled account cannot log in (same message)',
      path(page) === '/login' && await text(page, '#login-message') === 'Usuario o contraseña incorrectos.',
      `at ${page.url()}, "${await text(page, '#login-message')}"`);
    check('no session cookie for a disabled account', !(await sessionCookie(mdd)));
  });

  await step('the Madre de Dios clerk logs in', async () => {
    await login(page, base, config.mddClerk.user, config.mddClerk.password);
    check('login lands on the work queues', path(page) === '/', page.url());
    check('the page names the clerk', await text(page, '#usuario') === config.mddClerk.user);
    const cookie = await sessionCookie(mdd);
    check('session cookie is HttpOnly, Secure, SameSite=Strict',
      cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict',
      JSON.stringify(cookie && { httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite }));
  });

  await step('intake opens a case', async () => {
    await page.goto(base + '/ingreso');
    await page.screenshot({ path: config.screenshots.intake, fullPage: true });
    await page.fill('#dni', canary.dni);
    await page.fill('#nombres', canary.given);
    await page.fill('#apellidos', canary.surnames);
    await page.fill('#nacimiento', canary.birth);
    await page.fill('#distrito', canary.district);
    await page.selectOption('#tipo', 'CASE_KIND_VICTIM');
    await page.selectOption('#etapa', 'STAGE_IDENTIFIED');
    await page.selectOption('#edad', 'AGE_BAND_15_17');
    await page.selectOption('#sexo', 'SEX_FEMALE');
    await page.selectOption('#provincia', '1701');
    await page.check('#form-ingreso input[name=forma][value=EXPLOITATION_FORM_SEXUAL]');
    await page.selectOption('#lugar', 'SETTING_MINING_CAMP');
    await page.selectOption('#captacion', 'RECRUITMENT_MEANS_FALSE_JOB_OFFER');
    await page.selectOption('#base', 'LEGAL_BASIS_UPE_PROTECTIVE_MEASURE');
    await submit(page, '#form-ingreso');
    const match = /^\/caso\/(cs_[a-z]{20})$/.exec(path(page));
    check('intake leads to the new case page', match && new URL(page.url()).searchParams.get('nuevo') === '1',
      page.url());
    if (!match) throw new Error(`not a case page: ${page.url()}`);
    results.caseId = match[1];
    saveResults();
    check('the case page says the case was opened', await text(page, '#caso-aviso') === 'Caso abierto.');
    check(`the case is ${labels.STAGE_IDENTIFIED}`, await text(page, '#caso-etapa') === labels.STAGE_IDENTIFIED,
      await text(page, '#caso-etapa'));
    const html = await page.content();
    const shown = canaries.filter((c) => html.includes(c));
    check('the case page shows none of the identifiers typed', shown.length === 0, JSON.stringify(shown));
  });

  await step('stage buttons', async () => {
    for (const stage of ['STAGE_IMMEDIATE_PROTECTION', 'STAGE_RESIDENTIAL_CARE']) {
      await submit(page, '#form-etapa', `button[value=${stage}]`);
      check(`the stage button moves the case to ${labels[stage]}`,
        path(page) === `/caso/${results.caseId}` && await text(page, '#caso-etapa') === labels[stage],
        `${page.url()}: "${await text(page, '#caso-etapa')}"`);
    }
  });

  await step('a transfer submitted twice, and posted twice in parallel, is one transfer', async () => {
    await page.selectOption('#traslado-region', 'cusco');
    await page.selectOption('#traslado-provincia', '0801');
    await page.check('#form-traslado input[name=servicio][value=SERVICE_TYPE_PSYCHOSOCIAL]');
    // The form's data as the browser would post it, same request_id.
    const form = await page.$eval('#form-traslado', (f) => ({
      action: f.action, body: new URLSearchParams(new FormData(f)).toString(),
    }));
    check('the transfer form carries a request_id', /request_id=[0-9a-f-]{36}/.test(form.body), form.body);
    let posts = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && r.url() === form.action) posts++; });
    // Two parallel posts from another tab of the same session, racing the
    // double click on the form itself.
    const tab = await mdd.newPage();
    await tab.goto(base + '/casos');
    const race = tab.evaluate(({ action, body }) => {
      const post = () => fetch(action, {
        method: 'POST', body: new URLSearchParams(body), credentials: 'same-origin',
        headers: { Accept: 'application/json' },
      }).then(async (r) => ({ status: r.status, answer: await r.json().catch(() => null) }));
      return Promise.all([post(), post()]);
    }, form);
    await submitted(page, '#form-traslado', () => page.dblclick('#form-traslado button[type=submit]'));
    const answers = await race;
    check('a double click posts the form once', posts === 1, `${posts} posts`);
    check('both parallel posts are answered 200 with the case page',
      answers.every((a) => a.status === 200 && a.answer && a.answer.go === `/caso/${results.caseId}`),
      JSON.stringify(answers));
    // The same form sent again later (a retry) changes nothing either.
    const again = await tab.evaluate(({ action, body }) => fetch(action, {
      method: 'POST', body: new URLSearchParams(body), credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    }).then(async (r) => ({ status: r.status, answer: await r.json().catch(() => null) })), form);
    check('the same form posted again later is answered 200 with the case page',
      again.status === 200 && again.answer && again.answer.go === `/caso/${results.caseId}`, JSON.stringify(again));
    await tab.close();
    await page.goto(caseUrl(base));
    const transfers = await page.$$eval('#caso-traslados li[data-transfer]',
      (items) => items.map((li) => ({ id: li.dataset.transfer, state: li.querySelector('.estado').textContent })));
    check('the case lists exactly one transfer', transfers.length === 1, JSON.stringify(transfers));
    if (transfers.length < 1) throw new Error('no transfer');
    results.transferId = transfers[0].id;
    saveResults();
    check(`the transfer is ${labels.TRANSFER_STATE_REQUESTED}`, transfers[0].state === labels.TRANSFER_STATE_REQUESTED,
      transfers[0].state);
    check(`the case is ${labels.STAGE_TRANSFER_REQUESTED}`,
      await text(page, '#caso-etapa') === labels.STAGE_TRANSFER_REQUESTED, await text(page, '#caso-etapa'));
    check('the transfer form is gone', !(await page.$('#form-traslado')));
  });

  const cusco = await newContext();
  const cpage = await cusco.newPage();
  const cbase = config.cuscoUrl;
  const transferRow = () => `li[data-transfer="${results.transferId}"]`;

  await step('the Cusco clerk accepts the transfer from the home queue', async () => {
    await login(cpage, cbase, config.cuscoClerk.user, config.cuscoClerk.password);
    check('the Cusco clerk lands on the work queues', path(cpage) === '/', cpage.url());
    const row = `#cola-entrantes tr[data-transfer="${results.transferId}"]`;
    const seen = await reloadUntil(cpage, cbase + '/', row);
    check('the transfer appears in Cusco\'s incoming queue', seen);
    if (!seen) throw new Error('no incoming transfer');
    check('the queue row says where it comes from',
      (await text(cpage, `${row} td:nth-child(2)`)) === `desde ${config.regionNames['madre-de-dios']}`,
      await text(cpage, `${row} td:nth-child(2)`));
    await cpage.screenshot({ path: config.screenshots.home, fullPage: true });
    await Promise.all([cpage.waitForNavigation({ waitUntil: 'load' }), cpage.click(`${row} a`)]);
    check('the queue links to the case', path(cpage) === `/caso/${results.caseId}`, cpage.url());
    check('Cusco sees the case is in Madre de Dios\' charge', !!(await cpage.$('#caso-ajeno')));
    await submit(cpage, `${transferRow()} form.aceptar`);
    check(`the transfer is ${labels.TRANSFER_STATE_ACCEPTED} in Cusco`,
      await text(cpage, `${transferRow()} .estado`) === labels.TRANSFER_STATE_ACCEPTED,
      await text(cpage, `${transferRow()} .estado`));
  });

  await step('the Madre de Dios clerk confirms the departure', async () => {
    const seen = await reloadUntil(page, caseUrl(base), `${transferRow()} form.salida`);
    check('Madre de Dios gets the departure form once Cusco accepted', seen);
    if (!seen) throw new Error('no departure form');
    await submit(page, `${transferRow()} form.salida`);
    check(`the transfer is ${labels.TRANSFER_STATE_IN_TRANSIT}`,
      await text(page, `${transferRow()} .estado`) === labels.TRANSFER_STATE_IN_TRANSIT,
      await text(page, `${transferRow()} .estado`));
  });

  await step('the Cusco clerk confirms the arrival and adds a service', async () => {
    const row = `#cola-llegadas tr[data-transfer="${results.transferId}"]`;
    const seen = await reloadUntil(cpage, cbase + '/', row);
    check('the transfer appears in Cusco\'s expected arrivals', seen);
    if (!seen) throw new Error('no expected arrival');
    await Promise.all([cpage.waitForNavigation({ waitUntil: 'load' }), cpage.click(`${row} a`)]);
    await submit(cpage, `${transferRow()} form.llegada`);
    check(`the case is ${labels.STAGE_RECEIVED} once arrived`,
      await text(cpage, '#caso-etapa') === labels.STAGE_RECEIVED, await text(cpage, '#caso-etapa'));
    check(`the transfer is ${labels.TRANSFER_STATE_RECEIVED}`,
      await text(cpage, `${transferRow()} .estado`) === labels.TRANSFER_STATE_RECEIVED,
      await text(cpage, `${transferRow()} .estado`));
    check('the case is now Cusco\'s', !(await cpage.$('#caso-ajeno')));
    await cpage.selectOption('#servicio-tipo', 'SERVICE_TYPE_PSYCHOSOCIAL');
    await cpage.selectOption('#servicio-estado', 'SERVICE_STATUS_ONGOING');
    await submit(cpage, '#form-servicio');
    const services = await cpage.$$('#caso-servicios tr[data-service]');
    check('the service is listed in Cusco', services.length === 1, `${services.length} services`);
    await cpage.screenshot({ path: config.screenshots.case, fullPage: true });
    check('screenshots saved', [config.screenshots.home, config.screenshots.intake, config.screenshots.case]
      .every((f) => fs.statSync(f).size > 10000));
  });

  await step('a post without the CSRF token is refused', async () => {
    const form = await cpage.$eval('#form-servicio', (f) => {
      const data = new URLSearchParams(new FormData(f));
      data.delete('csrf');
      return { action: f.action, body: data.toString() };
    });
    const answers = await cpage.evaluate(async ({ action, body }) => {
      const post = async (extra) => {
        const r = await fetch(action, {
          method: 'POST', body: new URLSearchParams(body + extra), credentials: 'same-origin',
          headers: { Accept: 'application/json' },
        });
        return { status: r.status, answer: await r.json().catch(() => null) };
      };
      return [await post(''), await post('&csrf=0123abcd')];
    }, form);
    check('a form without its CSRF token is answered 403',
      answers[0].status === 403 && answers[0].answer && /token de seguridad/.test(answers[0].answer.error),
      JSON.stringify(answers[0]));
    check('a form with a wrong CSRF token is answered 403', answers[1].status === 403, JSON.stringify(answers[1]));
    await cpage.goto(caseUrl(cbase));
    const services = await cpage.$$('#caso-servicios tr[data-service]');
    check('nothing changed: still one service', services.length === 1, `${services.length} services`);
  }, false);

  await step('Madre de Dios sees the service Cusco added', async () => {
    const seen = await reloadUntil(page, caseUrl(base), '#caso-servicios tr[data-service]');
    check('the service reaches the Madre de Dios case page', seen);
    check('Madre de Dios sees the case is now in Cusco\'s charge', !!(await page.$('#caso-ajeno')));
    check(`Madre de Dios sees the case ${labels.STAGE_RECEIVED}`,
      await text(page, '#caso-etapa') === labels.STAGE_RECEIVED, await text(page, '#caso-etapa'));
  }, false);

  await step('an expired session keeps the form', async () => {
    const context = await newContext();
    const p = await context.newPage();
    await login(p, config.shortUrl, config.mddClerk.user, config.mddClerk.password);
    check('login on the 2 s console', path(p) === '/', p.url());
    await p.goto(config.shortUrl + '/actividades');
    await p.fill('#campana', 'Feria de prevencion en Tambopata');
    await p.selectOption('#campana-provincia', '1701');
    await p.fill('#campana-personas', '250');
    const typed = await formValues(p, '#form-campana');
    await sleep(3000);
    const response = p.waitForResponse((r) => r.request().method() === 'POST');
    await p.click('#form-campana button[type=submit]');
    const status = (await response).status();
    await p.waitForSelector('#form-campana .form-mensaje.error');
    const message = await text(p, '#form-campana .form-mensaje');
    check('the expired session is answered 401', status === 401, String(status));
    check('the page says the session expired', /Su sesión expiró/.test(message), message);
    check('the page offers to log in again',
      await p.$eval('#form-campana .form-mensaje a', (a) => a.getAttribute('href')) === '/login?expirada=1');
    check('the page stays on the form', path(p) === '/actividades', p.url());
    const kept = await formValues(p, '#form-campana');
    check('what was typed is still in the form', JSON.stringify(kept) === JSON.stringify(typed),
      `${JSON.stringify(typed)} -> ${JSON.stringify(kept)}`);
    await context.close();
  }, false);

  await step('an unreachable node keeps the form', async () => {
    await cpage.goto(cbase + '/actividades');
    await cpage.fill('#campana', 'Charla en colegios de Urubamba');
    await cpage.selectOption('#campana-provincia', '0813');
    await cpage.fill('#campana-personas', '120');
    const typed = await formValues(cpage, '#form-campana');
    // Cusco's node stops (last check: the driver checks Madre de Dios').
    // The form is sent as soon as the node refuses new connections (it may
    // still be draining its calls and streams), then again once it exited.
    process.kill(config.cuscoNodePid, 'SIGTERM');
    const deadline = Date.now() + 15000;
    while (!(await refused(config.cuscoNodePort)) && Date.now() < deadline) await sleep(50);
    check('Cusco\'s node refuses connections', await refused(config.cuscoNodePort));
    for (const attempt of ['stopping', 'stopped']) {
      if (attempt === 'stopped') {
        while (!exited(config.cuscoNodePid) && Date.now() < deadline) await sleep(100);
        check('Cusco\'s node exited', exited(config.cuscoNodePid));
      }
      const state = exited(config.cuscoNodePid) ? 'exited' : 'draining';
      const response = cpage.waitForResponse((r) => r.request().method() === 'POST');
      await cpage.click('#form-campana button[type=submit]');
      const status = (await response).status();
      await cpage.waitForFunction(() => {
        const m = document.querySelector('#form-campana .form-mensaje');
        return m && m.classList.contains('error');
      });
      const message = await text(cpage, '#form-campana .form-mensaje');
      const label = `node ${attempt} (${state})`;
      check(`${label}: answered 503`, status === 503, String(status));
      check(`${label}: the page says the node cannot be reached`,
        /No se puede contactar al nodo regional/.test(message), message);
      check(`${label}: the page stays on the form`, path(cpage) === '/actividades', cpage.url());
      const kept = await formValues(cpage, '#form-campana');
      check(`${label}: what was typed is still in the form`, JSON.stringify(kept) === JSON.stringify(typed),
        `${JSON.stringify(typed)} -> ${JSON.stringify(kept)}`);
      check(`${label}: the submit button is enabled again`,
        await cpage.isEnabled('#form-campana button[type=submit]'));
      // The next attempt's message must be its own.
      await cpage.$eval('#form-campana .form-mensaje', (m) => { m.className = 'form-mensaje'; m.textContent = ''; });
    }
  }, false);
} catch (e) {
  if (!(e instanceof Abort)) check('browser session', false, e.stack || String(e));
} finally {
  const csp = consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e));
  check('no Content-Security-Policy violation', csp.length === 0, JSON.stringify(csp));
  // The 401, 403 and 503 answers above are logged by Chromium as failed
  // resources; anything else is a script error.
  const scriptErrors = consoleErrors.filter((e) => !/status of (401|403|503)/.test(e) && !csp.includes(e));
  check('no script error in the pages', scriptErrors.length === 0, JSON.stringify(scriptErrors));
  check('no request left loopback', offLoopback.length === 0, JSON.stringify(offLoopback));
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
