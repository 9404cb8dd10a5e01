// Browser tests of the grse-http pages in Debian's headless Chromium, driven by playwright-core
// (no browser download: executablePath is /usr/bin/chromium). Run by tests/browser/run.sh, which
// starts the cluster and the server; expected values are read from the database with psql.
// Prints `ok - ...` / `not ok - ...` lines; screenshots go to $ARTIFACTS.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const { BASE, TOKEN, BAD_TOKEN, ARTIFACTS, USER_DATA_DIR, PSQL } = process.env;
let failed = 0;
const ok = (cond, desc, detail) => {
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond) {
    failed += 1;
    if (detail !== undefined) console.log(`#   ${String(detail).split('\n').join('\n#   ')}`);
  }
};
// One SQL query's rows as arrays of text fields (psql -At, tab-separated).
const sql = (query) =>
  execFileSync(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-F', '\t', '-c', query], { encoding: 'utf8' })
    .split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
const near = (a, b, tolerance) => Math.abs(a - b) <= tolerance;

// The rendered fill/track width ratio of the bar inside `scope` (a locator).
async function barRatio(scope) {
  return scope.locator('svg.bar').first().evaluate((svg) => {
    const track = svg.querySelector('rect.track').getBoundingClientRect().width;
    const fill = svg.querySelector('rect.fill').getBoundingClientRect().width;
    return track > 0 ? fill / track : -1;
  });
}

const context = await chromium.launchPersistentContext(USER_DATA_DIR, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const page = context.pages()[0] ?? await context.newPage();
page.setDefaultTimeout(15000);

try {
  // --- sign-in
  let response = await page.goto(`${BASE}/regions`);
  ok(response.status() === 401 && await page.locator('form.signin').count() === 1
     && await page.locator('.card').count() === 0,
     '/regions without a token shows the sign-in form and no data');
  await page.fill('#token', BAD_TOKEN);
  await page.click('form.signin button[type=submit]');
  ok((await page.locator('.error').textContent()).includes('cannot be used'), 'a forged token is refused with a reason');
  await page.fill('#token', TOKEN);
  await Promise.all([page.waitForURL(`${BASE}/regions`), page.click('form.signin button[type=submit]')]);
  const cookies = await context.cookies(BASE);
  const cookie = cookies.find((c) => c.name === 'grse_token');
  ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'signing in sets the HttpOnly cookie grse_token');
  ok(!(await page.evaluate(() => document.cookie)).includes('grse_token'), 'page scripts cannot read the token');

  // --- every region on /regions, bars as wide as the values
  const regions = sql(`SELECT r.id, r.name, s.capacity_score, s.overall_pressure, s.scaling_mode
                         FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
                        WHERE r.active ORDER BY r.name`);
  await page.waitForSelector('#region-grid');
  const shown = (await page.locator('.card [data-field=name]').allTextContents()).sort();
  ok(JSON.stringify(shown) === JSON.stringify(regions.map((r) => r[1]).sort()),
     `every active region is on /regions (${regions.length})`, `shown ${shown}`);
  for (const [id, name, capacity, pressure, mode] of regions) {
    const card = page.locator(`.card[data-region-id="${id}"]`);
    const cap = await barRatio(card.locator('[data-metric=capacity]'));
    const pre = await barRatio(card.locator('[data-metric=pressure]'));
    ok(near(cap, Number(capacity) / 100, 0.01) && near(pre, Number(pressure) / 100, 0.01),
       `${name}: capacity and pressure bars are ${capacity}% and ${pressure}% wide`, `${cap} ${pre}`);
    ok(await card.locator('[data-field=mode]').textContent() === mode, `${name}: mode ${mode} shown`);
    ok(await card.getAttribute('href') === `/regions/${id}`, `${name}: the card links to its page`);
  }
  await page.waitForSelector('#live.on');
  await page.screenshot({ path: path.join(ARTIFACTS, 'regions.png'), fullPage: true });

  // --- sorting as the API: by capacity, ascending
  await Promise.all([page.waitForURL(/sortBy=capacity/), page.click('nav.sort a[data-sort=capacity]')]);
  await Promise.all([page.waitForURL(/order=asc/), page.click('nav.sort a:text("ascending")')]);
  const order = await page.locator('.card [data-field=name]').allTextContents();
  const want = sql(`SELECT r ->> 'regionName' FROM jsonb_array_elements(grse.api_regions_health('capacity', 'asc') -> 'regions') r`)
    .map((r) => r[0]);
  ok(JSON.stringify(order) === JSON.stringify(want), 'sorted by capacity ascending as api_regions_health', `${order} vs ${want}`);

  // --- a mode change arrives live after a metric write (no reload)
  await page.goto(`${BASE}/regions`);
  await page.waitForSelector('#live.on');
  const [target, targetName, , , targetMode] = regions.find((r) => r[4] === 'normal') ?? regions[0];
  await page.evaluate(() => { window.__notReloaded = true; });
  sql(`UPDATE grse.region_scaling_state SET posting_pressure = 96, orchestration_pressure = 96,
              creative_pressure = 96, intel_pressure = 96 WHERE region_id = '${target}'`);
  const newMode = sql(`SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '${target}'`)[0][0];
  const badge = page.locator(`.card[data-region-id="${target}"] [data-field=mode]`);
  let arrived = false;
  try {
    await page.waitForFunction(([sel, m]) => document.querySelector(sel)?.textContent === m,
      [`.card[data-region-id="${target}"] [data-field=mode]`, newMode], { timeout: 10000 });
    arrived = true;
  } catch { /* reported below */ }
  ok(arrived && newMode !== targetMode, `${targetName}: the mode change ${targetMode} → ${newMode} arrives live`,
     `badge shows ${await badge.textContent()}`);
  ok(await page.evaluate(() => window.__notReloaded === true), 'the page was updated in place, not reloaded');
  ok((await page.locator('#events li').allTextContents()).some((t) => t.includes(`${targetName} ${targetMode} → ${newMode}`)),
     'the live event list names the change');
  const pre = await barRatio(page.locator(`.card[data-region-id="${target}"] [data-metric=pressure]`));
  ok(near(pre, 0.96, 0.01), `${targetName}: the pressure bar follows the write (96%)`, pre);
  await page.screenshot({ path: path.join(ARTIFACTS, 'regions-live.png'), fullPage: true });

  // --- click through to a region: four pressure bars with the right widths and weights
  // the most loaded other region (the one a reader of the page would look at)
  const [detailId, detailName] = regions.filter((r) => r[0] !== target)
    .sort((a, b) => Number(b[3]) - Number(a[3]))[0] ?? regions[0];
  await Promise.all([page.waitForURL(`${BASE}/regions/${detailId}`), page.click(`.card[data-region-id="${detailId}"]`)]);
  ok((await page.locator('h1 [data-field=name]').textContent()) === detailName, `clicking ${detailName} opens its page`);
  const [p] = sql(`SELECT s.posting_pressure, s.orchestration_pressure, s.creative_pressure, s.intel_pressure,
                          p.pressure_weight_posting, p.pressure_weight_orchestration, p.pressure_weight_creative,
                          p.pressure_weight_intel
                     FROM grse.region_scaling_state s, grse.policy p WHERE s.region_id = '${detailId}'`);
  const types = ['posting', 'orchestration', 'creative', 'intel'];
  ok(await page.locator('#pressures [data-pressure]').count() === 5, 'four pressure bars and the overall');
  for (const [i, type] of types.entries()) {
    const row = page.locator(`#pressures [data-pressure=${type}]`);
    const ratio = await barRatio(row);
    ok(near(ratio, Number(p[i]) / 100, 0.01), `${type} bar is ${p[i]}% wide`, ratio);
    const weight = `${Math.round(Number(p[4 + i]) * 100)}% weight`;
    ok((await row.textContent()).includes(weight), `${type} shows its policy weight (${weight})`);
  }
  const points = sql(`SELECT count(*) FROM grse.get_region_health_trend('${detailId}')`)[0][0];
  ok(await page.locator('svg.trend').getAttribute('data-points') === points, `the health trend plots ${points} snapshots`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'region.png'), fullPage: true });

  // the region's page follows its own mode changes live too
  const before = await page.locator('h1 [data-field=mode]').textContent();
  await page.evaluate(() => { window.__notReloaded = true; });
  sql(`UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
              creative_pressure = 0, intel_pressure = 0 WHERE region_id = '${detailId}'`);
  const after = sql(`SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '${detailId}'`)[0][0];
  let followed = false;
  try {
    await page.waitForFunction((m) => document.querySelector('h1 [data-field=mode]')?.textContent === m, after,
      { timeout: 10000 });
    followed = true;
  } catch { /* reported below */ }
  ok(followed && after !== before && await page.evaluate(() => window.__notReloaded === true),
     `${detailName}'s page shows its mode change ${before} → ${after} live, in place`);
  const zero = await barRatio(page.locator('#pressures [data-pressure=posting]'));
  ok(near(zero, 0, 0.005), `${detailName}'s posting bar follows the write (0%)`, zero);

  // --- sign out: the pages show no data again
  await Promise.all([page.waitForURL(`${BASE}/signin`), page.click('form[action="/signout"] button')]);
  response = await page.goto(`${BASE}/regions`);
  ok(response.status() === 401 && await page.locator('.card').count() === 0, 'after signing out /regions shows no data');
} catch (e) {
  ok(false, 'browser session', e.stack);
  await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
}
process.exit(failed ? 1 : 0);
