// Drives the Nimbus web console in headless Chromium (Debian's, through playwright-core)
// against a running `nimbus serve` that crates/nimbus/tests/e2e_console.rs prepared with real
// data. Checks that every page renders, that the charts count the invocations just made, and
// that the live log tail shows a new invocation's output; writes a screenshot per page.
//
// Environment: NIMBUS_ENDPOINT, NIMBUS_FUNCTION, NIMBUS_EXPECT_INVOCATIONS, NIMBUS_QUEUE,
// NIMBUS_EXPECT_DEPTH, NIMBUS_STACK (deployed with a lint finding), NIMBUS_SCREENSHOTS (a directory), CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const endpoint = need("NIMBUS_ENDPOINT");
const fn = need("NIMBUS_FUNCTION");
const expectInvocations = Number(need("NIMBUS_EXPECT_INVOCATIONS"));
const queue = need("NIMBUS_QUEUE");
const expectDepth = need("NIMBUS_EXPECT_DEPTH");
const stack = need("NIMBUS_STACK");
const shots = need("NIMBUS_SCREENSHOTS");
const WAIT_MS = 30_000; // how long a page may take to show what it must

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // As root in a sandbox, and with a closed network: no sandbox, no background traffic.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  async function open(hash) {
    await page.goto(`${endpoint}/console/${hash}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: WAIT_MS });
  }

  // 1. Functions: the function is listed.
  await open("");
  await page.waitForSelector(`[data-test=fn-row] >> text=${fn}`, { timeout: WAIT_MS });
  await page.screenshot({ path: join(shots, "functions.png"), fullPage: true });

  // 2. One function: charts show the invocations just made; logs tail live.
  await page.goto(`${endpoint}/console/#/function/${encodeURIComponent(fn)}`);
  await page.waitForSelector("[data-test=chart-invocations]", { timeout: WAIT_MS });
  const charted = Number(await page.getAttribute("[data-test=chart-invocations]", "data-total"));
  check(charted === expectInvocations, `the invocations chart counts ${charted}, want ${expectInvocations}`);
  const card = await page.textContent("[data-test=invocations] .v");
  check(Number(card) === expectInvocations, `the invocations card says ${card}, want ${expectInvocations}`);
  // Percentiles and cold starts per minute come from the metering records.
  const p50 = (await page.textContent("[data-test=p50] .v")).trim();
  check(/ms|s$/.test(p50) && p50 !== "–", `the p50 card says ${p50}`);
  const pct = Number(await page.getAttribute("[data-test=chart-percentiles]", "data-total"));
  check(pct > 0, `the percentile chart is empty (${pct})`);
  const cold = Number(await page.getAttribute("[data-test=chart-cold]", "data-total"));
  check(cold > 0, `the cold-start chart shows no cold start (${cold})`);
  await page.waitForSelector("[data-test=log-line] >> text=START RequestId", { timeout: WAIT_MS });
  const marker = `tail-marker-${Date.now()}`;
  const r = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(fn)}/invocations`, {
    method: "POST",
    body: JSON.stringify({ marker }),
  });
  check(r.ok, `invoke for the tail: ${r.status}`);
  await page.waitForSelector(`[data-test=log-line] >> text=${marker}`, { timeout: WAIT_MS });
  await page.screenshot({ path: join(shots, "function.png"), fullPage: true });

  // 3. Queues: the queue and its depth.
  await open("#/queues");
  const row = page.locator("[data-test=queue-row]", { hasText: queue });
  await row.waitFor({ timeout: WAIT_MS });
  const depth = (await row.locator("[data-test=queue-depth]").textContent()).trim();
  check(depth === expectDepth, `queue ${queue} shows depth ${depth}, want ${expectDepth}`);
  await page.screenshot({ path: join(shots, "queues.png"), fullPage: true });

  // 4. Stacks, deployments, schedules; 5. cost.
  await open("#/stacks");
  await page.waitForSelector("[data-test=stacks]", { timeout: WAIT_MS });
  const lintRow = page.locator("[data-test=stack-lint-row]", { hasText: stack });
  await lintRow.first().waitFor({ timeout: WAIT_MS });
  const lintText = await lintRow.first().textContent();
  check(lintText.includes("NL001") && lintText.includes("Nightly"), `lint row: ${lintText}`);
  const lintCount = await page.locator("[data-test=stack-row]", { hasText: stack }).locator("[data-test=lint-count]").textContent();
  check(/^1 errors/.test(lintCount.trim()), `lint count: ${lintCount}`);
  await page.screenshot({ path: join(shots, "stacks.png"), fullPage: true });
  await open("#/cost");
  const verdict = page.locator("[data-test=verdict]", { hasText: fn });
  await verdict.waitFor({ timeout: WAIT_MS });
  const verdictText = await verdict.textContent();
  check(/stay on FaaS|move to reserved capacity/.test(verdictText), `verdict: ${verdictText}`);
  const plot = page.locator("[data-test=crossover-chart]", { hasText: fn });
  await plot.waitFor({ timeout: WAIT_MS });
  const faasPath = await plot.locator("[data-test=faas-line]").getAttribute("d");
  check(faasPath && faasPath.split("L").length === 21, `the FaaS line has ${faasPath}`);
  await page.screenshot({ path: join(shots, "cost.png"), fullPage: true });

  check(consoleErrors.length === 0, `page errors: ${consoleErrors.join("; ")}`);
  console.log(`console ok: ${charted} invocations charted, p50 ${p50}, lint ${lintCount.trim()}, tail saw ${marker}, queue depth ${depth}; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(`console test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
