// The Nimbus console: a small single-page app over the server's own APIs (Lambda, SQS,
// CloudWatch Logs, /nimbus/v1). No framework, no build step, no external network.
"use strict";

const REFRESH_MS = 5000;      // how often a view reloads its numbers
const TAIL_MS = 1000;         // how often the log tail polls
const TAIL_LINES_MAX = 500;   // lines kept on screen
const SERIES_MINUTES = 60;    // chart window

let refreshTimer = null;
let tailTimer = null;

// ---------- API helpers ----------

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: "application/json" } });
  if (!r.ok) {
    const text = await r.text();
    throw new Error(`${r.status} ${path}: ${text.slice(0, 200)}`);
  }
  return r.json();
}

async function optionalJson(path) {
  try { return await getJson(path); } catch (_) { return null; }
}

// AWS JSON protocols on POST / (SQS is 1.0, CloudWatch Logs 1.1).
async function awsJson(target, body, version) {
  const r = await fetch("/", {
    method: "POST",
    headers: { "x-amz-target": target, "content-type": `application/x-amz-json-${version}` },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${target}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

const sqs = (op, body) => awsJson(`AmazonSQS.${op}`, body, "1.0");
const logs = (op, body) => awsJson(`Logs_20140328.${op}`, body, "1.1");

// ---------- rendering helpers ----------

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function table(headers, rows, attrs = "") {
  const head = headers.map((h) => `<th class="${h.num ? "num" : ""}">${esc(h.label ?? h)}</th>`).join("");
  const body = rows.length
    ? rows.join("")
    : `<tr><td colspan="${headers.length}" class="muted">None.</td></tr>`;
  return `<table ${attrs}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function card(key, value, test) {
  return `<div class="card" ${test ? `data-test="${test}"` : ""}><div class="v">${esc(value)}</div><div class="k">${esc(key)}</div></div>`;
}

function fmtMs(ms) {
  if (ms == null || Number.isNaN(ms)) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

function fmtTime(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// A line chart of one or more series over equally spaced points, as inline SVG.
function lineChart(title, points, series, test) {
  const w = 380, h = 140, pad = 22;
  const max = Math.max(1, ...series.flatMap((s) => points.map((p) => p[s.key] || 0)));
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v) => h - pad - ((v || 0) * (h - 2 * pad)) / max;
  const total = series.reduce((sum, s) => sum + points.reduce((a, p) => a + (p[s.key] || 0), 0), 0);
  const paths = series.map((s) => {
    const d = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join("");
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`;
  }).join("");
  const legend = series.map((s, i) => `<text x="${pad + i * 110}" y="12" font-size="11" fill="${s.color}">${esc(s.label)}</text>`).join("");
  return `<div class="chart" data-test="${test}" data-total="${total}"><div class="title">${esc(title)} — last ${points.length} min</div>
    <svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">
      ${legend}
      <line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#ccd"/>
      <text x="${pad}" y="${h - 6}" font-size="10" fill="#889">-${points.length}m</text>
      <text x="${w - pad - 20}" y="${h - 6}" font-size="10" fill="#889">now</text>
      <text x="2" y="${pad + 4}" font-size="10" fill="#889">${max.toFixed(max < 10 ? 1 : 0)}</text>
      ${paths}
    </svg></div>`;
}

// The crossover plot: cost over the window against utilisation of the instances the load
// needs, FaaS rising with use, always-on flat; the measured utilisation is marked.
function crossoverChart(a) {
  const w = 380, h = 160, pad = 28;
  const curve = a.Curve || [];
  if (!curve.length) return "";
  const max = Math.max(1e-9, ...curve.map((c) => Math.max(c[1], c[2])));
  const x = (u) => pad + u * (w - 2 * pad);
  const y = (v) => h - pad - (v * (h - 2 * pad)) / max;
  const line = (i) => curve.map((c, k) => `${k ? "L" : "M"}${x(c[0]).toFixed(1)},${y(c[i]).toFixed(1)}`).join("");
  const best = a.Best || {};
  const used = best.Utilisation || 0;
  const cross = best.Crossover;
  const money = (v) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(4));
  return `<div class="chart" data-test="crossover-chart" data-utilisation="${used}" data-crossover="${cross ?? ""}">
    <div class="title">${esc(a.FunctionName)}: cost over ${a.Hours < 1 ? `${(a.Hours * 60).toFixed(0)} min` : `${Number(a.Hours).toFixed(1)} h`} vs utilisation of ${best.Instances || 0} × ${esc(best.Instance || "–")}</div>
    <svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="FaaS versus reserved capacity for ${esc(a.FunctionName)}">
      <text x="${pad}" y="12" font-size="11" fill="#2f6fde">FaaS</text>
      <text x="${pad + 50}" y="12" font-size="11" fill="#805ad5">always-on</text>
      <line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#ccd"/>
      <text x="${pad}" y="${h - 10}" font-size="10" fill="#889">0 %</text>
      <text x="${w - pad - 24}" y="${h - 10}" font-size="10" fill="#889">100 %</text>
      <text x="2" y="${pad + 4}" font-size="10" fill="#889">$${money(max)}</text>
      <path data-test="faas-line" d="${line(1)}" fill="none" stroke="#2f6fde" stroke-width="1.8"/>
      <path data-test="reserved-line" d="${line(2)}" fill="none" stroke="#805ad5" stroke-width="1.8"/>
      <line x1="${x(used).toFixed(1)}" y1="${pad}" x2="${x(used).toFixed(1)}" y2="${h - pad}" stroke="#2f855a" stroke-dasharray="3,3"/>
      <text x="${Math.min(x(used) + 3, w - pad - 60).toFixed(1)}" y="${pad + 10}" font-size="10" fill="#2f855a">measured ${(used * 100).toFixed(1)} %</text>
      ${cross != null ? `<circle cx="${x(cross).toFixed(1)}" cy="${y(curve[0][2]).toFixed(1)}" r="3.5" fill="#c9352b"/><text x="${Math.min(x(cross) + 5, w - pad - 70).toFixed(1)}" y="${(y(curve[0][2]) - 6).toFixed(1)}" font-size="10" fill="#c9352b">cross ${(cross * 100).toFixed(1)} %</text>` : ""}
    </svg></div>`;
}

function setView(html) {
  document.getElementById("view").innerHTML = html;
}

function activeNav(name) {
  for (const a of document.querySelectorAll("header nav a")) {
    a.classList.toggle("active", a.dataset.nav === name);
  }
}

// ---------- views ----------

async function functionsView() {
  activeNav("functions");
  const [list, stats] = await Promise.all([
    getJson("/2015-03-31/functions?MaxItems=50"),
    getJson("/nimbus/v1/stats"),
  ]);
  const byName = Object.fromEntries((stats.functions || []).map((f) => [f.name, f]));
  const a = stats.account || {};
  const rows = (list.Functions || []).map((f) => {
    const s = byName[f.FunctionName] || {};
    return `<tr data-test="fn-row"><td><a href="#/function/${encodeURIComponent(f.FunctionName)}">${esc(f.FunctionName)}</a></td>
      <td>${esc(f.Runtime)}</td><td class="num">${f.MemorySize}</td><td class="num">${f.Timeout}</td>
      <td class="num">${s.inFlight ?? 0}</td><td class="num">${s.reserved ?? "–"}</td><td class="num">${s.provisioned || "–"}</td>
      <td>${esc(f.LastModified)}</td></tr>`;
  });
  setView(`<h1>Functions</h1>
    <div class="cards">
      ${card("Account concurrency limit", a.limit ?? "–")}
      ${card("Unreserved", a.unreserved ?? "–")}
      ${card("Running now", a.inFlight ?? 0, "in-flight")}
      ${card("Environments", stats.environments ?? 0)}
    </div>
    ${table(["Function", "Runtime", { label: "Memory MB", num: 1 }, { label: "Timeout s", num: 1 }, { label: "In flight", num: 1 }, { label: "Reserved", num: 1 }, { label: "Provisioned", num: 1 }, "Last modified"], rows, 'data-test="functions"')}`);
}

async function seriesPoints(name) {
  const s = await optionalJson(`/nimbus/v1/console/series?function=${encodeURIComponent(name)}&minutes=${SERIES_MINUTES}`);
  return s ? s.Minutes : [];
}

async function functionView(name) {
  activeNav("functions");
  const enc = encodeURIComponent(name);
  const [fn, versions, aliases, mappings, stacks, schedules, summary, points, stats] = await Promise.all([
    getJson(`/2015-03-31/functions/${enc}`),
    getJson(`/2015-03-31/functions/${enc}/versions`),
    getJson(`/2015-03-31/functions/${enc}/aliases`),
    getJson(`/2015-03-31/event-source-mappings/?FunctionName=${enc}`),
    optionalJson("/nimbus/v1/stacks"),
    optionalJson("/nimbus/v1/schedules"),
    optionalJson(`/nimbus/v1/metrics/summary?function=${enc}`),
    seriesPoints(name),
    getJson("/nimbus/v1/stats"),
  ]);
  const c = fn.Configuration || {};
  const st = (stats.functions || []).find((f) => f.name === name) || {};
  const triggers = [];
  for (const m of mappings.EventSourceMappings || []) {
    triggers.push(`<tr><td>SQS</td><td>${esc(m.EventSourceArn)}</td><td>${esc(m.State)}, batch ${m.BatchSize}</td></tr>`);
  }
  let stackName = null;
  for (const s of (stacks && stacks.Stacks) || []) {
    for (const f of (s.Spec && s.Spec.Functions) || []) {
      if (f.FunctionName !== name) continue;
      stackName = s.Name;
      for (const e of f.Events || []) {
        const src = e.Source || {};
        if (src.Type === "Api" || src.Type === "HttpApi") {
          triggers.push(`<tr><td>${esc(src.Type)}</td><td>${esc(src.Method || "ANY")} ${esc(src.Path || "$default")}</td><td>stack ${esc(s.Name)}</td></tr>`);
        }
      }
    }
  }
  for (const s of (schedules && schedules.Schedules) || []) {
    if (s.function !== name) continue;
    triggers.push(`<tr><td>Schedule</td><td>${esc(s.expression)}</td><td>${s.enabled ? "next " + esc(s.nextSlot || "–") : "disabled"}</td></tr>`);
  }
  const sum = summary && (summary.Functions ? summary.Functions[0] : summary);
  const totalInv = points.reduce((a, p) => a + p.Invocations, 0);
  const totalErr = points.reduce((a, p) => a + p.Errors, 0);
  const lint = stackName ? await optionalJson(`/nimbus/v1/lint?stack=${encodeURIComponent(stackName)}`) : null;
  const findings = (lint && lint.Findings) || [];
  setView(`<h1>${esc(name)}</h1>
    <div class="cards">
      ${card("Runtime", c.Runtime)}${card("Memory", `${c.MemorySize} MB`)}${card("Timeout", `${c.Timeout} s`)}
      ${card("Invocations (60 min)", totalInv, "invocations")}
      ${card("Errors (60 min)", totalErr, "errors")}
      ${card("p50", sum && sum.DurationP50Ms != null ? fmtMs(sum.DurationP50Ms) : "–", "p50")}
      ${card("p99", sum && sum.DurationP99Ms != null ? fmtMs(sum.DurationP99Ms) : "–", "p99")}
      ${card("Cold starts", sum && sum.ColdStartPercent != null ? `${sum.ColdStartPercent.toFixed(1)} %` : "–", "cold")}
      ${card("In flight", st.inFlight ?? 0)}${card("Reserved", st.reserved ?? "–")}${card("Provisioned", st.provisioned || "–")}
    </div>
    <div class="charts">
      ${lineChart("Invocations per minute", points, [{ key: "Invocations", label: "invocations", color: "#2f6fde" }], "chart-invocations")}
      ${lineChart("Errors and throttles per minute", points, [{ key: "Errors", label: "errors", color: "#c9352b" }, { key: "Throttles", label: "throttles", color: "#b7791f" }], "chart-errors")}
      ${lineChart("Duration per minute (ms)", points, [{ key: "AvgMs", label: "average", color: "#2f855a" }, { key: "MaxMs", label: "max", color: "#805ad5" }], "chart-duration")}
      ${lineChart("Duration percentiles per minute (ms)", points, [{ key: "P50Ms", label: "p50", color: "#2f6fde" }, { key: "P99Ms", label: "p99", color: "#c9352b" }], "chart-percentiles")}
      ${lineChart("Cold starts per minute (%)", points, [{ key: "ColdStartPercent", label: "cold-start %", color: "#b7791f" }], "chart-cold")}
    </div>
    <h2>Triggers</h2>
    ${table(["Type", "Source", "State"], triggers, 'data-test="triggers"')}
    <h2>Versions and aliases</h2>
    ${table(["Version", "Code SHA-256", "Description"], (versions.Versions || []).map((v) => `<tr><td>${esc(v.Version)}</td><td><code>${esc((v.CodeSha256 || "").slice(0, 16))}…</code></td><td>${esc(v.Description)}</td></tr>`))}
    <br>
    ${table(["Alias", "Version", "Routing"], (aliases.Aliases || []).map((a) => `<tr data-test="alias-row"><td>${esc(a.Name)}</td><td>${esc(a.FunctionVersion)}</td><td>${esc(JSON.stringify((a.RoutingConfig && a.RoutingConfig.AdditionalVersionWeights) || {}))}</td></tr>`))}
    ${lint ? `<h2>Lint findings (stack ${esc(stackName)})</h2>${table(["Id", "Severity", "Resource", "Finding", "Fix"], findings.map((f) => `<tr data-test="lint-row"><td>${esc(f.Id)}</td><td><span class="badge ${f.Severity === "Error" ? "bad" : f.Severity === "Warning" ? "warn" : ""}">${esc(f.Severity)}</span></td><td>${esc(f.Resource)}</td><td>${esc(f.Message)}</td><td>${esc(f.Fix)}</td></tr>`))}` : ""}
    <h2>Logs <span class="muted" id="tail-state">(live)</span></h2>
    <div class="logs" id="logs" data-test="logs"></div>`);
  startTail(name);
}

function startTail(name) {
  stopTail();
  let since = Date.now() - 60 * 60 * 1000;
  const seen = new Set();
  const box = () => document.getElementById("logs");
  const poll = async () => {
    const el = box();
    if (!el) return stopTail();
    try {
      const r = await logs("FilterLogEvents", { logGroupName: `/aws/lambda/${name}`, startTime: since, limit: 1000 });
      const fresh = (r.events || []).filter((e) => !seen.has(e.eventId));
      for (const e of fresh) {
        seen.add(e.eventId);
        since = Math.max(since, e.timestamp);
        const line = document.createElement("div");
        line.innerHTML = `<span class="ts">${esc(fmtTime(e.timestamp))}</span> ${esc(e.message.trimEnd())}`;
        line.dataset.test = "log-line";
        el.appendChild(line);
      }
      while (el.childElementCount > TAIL_LINES_MAX) el.removeChild(el.firstChild);
      if (fresh.length) el.scrollTop = el.scrollHeight;
    } catch (err) {
      // A function without logs yet has no log group: keep polling.
    }
  };
  poll();
  tailTimer = setInterval(poll, TAIL_MS);
}

function stopTail() {
  if (tailTimer) clearInterval(tailTimer);
  tailTimer = null;
}

async function queuesView() {
  activeNav("queues");
  const list = await sqs("ListQueues", {});
  const urls = list.QueueUrls || [];
  const attrs = await Promise.all(urls.map((u) => sqs("GetQueueAttributes", { QueueUrl: u, AttributeNames: ["All"] }).catch(() => ({ Attributes: {} }))));
  const rows = urls.map((u, i) => {
    const a = attrs[i].Attributes || {};
    let dlq = "–";
    if (a.RedrivePolicy) {
      try { const p = JSON.parse(a.RedrivePolicy); dlq = `${p.deadLetterTargetArn.split(":").pop()} after ${p.maxReceiveCount}`; } catch (_) { /* shown as is */ }
    }
    return `<tr data-test="queue-row"><td>${esc(u.split("/").pop())}</td><td class="num" data-test="queue-depth">${esc(a.ApproximateNumberOfMessages ?? "–")}</td>
      <td class="num">${esc(a.ApproximateNumberOfMessagesNotVisible ?? "–")}</td><td class="num">${esc(a.ApproximateNumberOfMessagesDelayed ?? "–")}</td>
      <td class="num">${esc(a.VisibilityTimeout ?? "–")}</td><td>${esc(dlq)}</td></tr>`;
  });
  setView(`<h1>Queues</h1>${table(["Queue", { label: "Visible", num: 1 }, { label: "In flight", num: 1 }, { label: "Delayed", num: 1 }, { label: "Visibility s", num: 1 }, "Dead-letter queue"], rows, 'data-test="queues"')}`);
}

async function stacksView() {
  activeNav("stacks");
  const [stacks, deployments, schedules, lint] = await Promise.all([
    getJson("/nimbus/v1/stacks"),
    optionalJson("/nimbus/v1/deployments"),
    optionalJson("/nimbus/v1/schedules"),
    optionalJson("/nimbus/v1/lint"),
  ]);
  const lintOf = Object.fromEntries(((lint && lint.Stacks) || []).map((l) => [l.Stack, l.Findings || []]));
  const lintBadge = (name) => {
    const f = lintOf[name];
    if (!f) return "–";
    const errors = f.filter((x) => x.Severity === "Error").length;
    const warnings = f.filter((x) => x.Severity === "Warning").length;
    return `<span class="badge ${errors ? "bad" : warnings ? "warn" : "ok"}" data-test="lint-count">${errors} errors, ${warnings} warnings</span>`;
  };
  const lintRows = Object.entries(lintOf).flatMap(([stack, fs]) => fs.map((f) => `<tr data-test="stack-lint-row"><td>${esc(stack)}</td><td>${esc(f.Id)}</td>
    <td><span class="badge ${f.Severity === "Error" ? "bad" : f.Severity === "Warning" ? "warn" : ""}">${esc(f.Severity)}</span></td><td>${esc(f.Resource)}</td><td>${esc(f.Message)}</td><td>${esc(f.Fix)}</td></tr>`));
  const stackRows = (stacks.Stacks || []).map((s) => `<tr data-test="stack-row"><td>${esc(s.Name)}</td><td><span class="badge ${/FAILED/.test(s.Status) ? "bad" : "ok"}">${esc(s.Status)}</span></td>
    <td class="num">${((s.Spec && s.Spec.Functions) || []).length}</td><td class="num">${((s.Spec && s.Spec.Queues) || []).length}</td><td>${lintBadge(s.Name)}</td><td>${esc(s.Reason || "")}</td></tr>`);
  const depRows = ((deployments && deployments.Deployments) || []).map((d) => `<tr data-test="deployment-row"><td>${esc(d.DeploymentId)}</td><td>${esc(d.FunctionName)}:${esc(d.Alias)}</td>
    <td>${esc(d.FromVersion)} → ${esc(d.ToVersion)}</td><td>${esc(d.DeploymentType)}</td><td><span class="badge ${d.Status === "RolledBack" || d.Status === "Failed" ? "bad" : d.Status === "Succeeded" ? "ok" : "warn"}">${esc(d.Status)}</span></td>
    <td class="num">${d.TrafficPercent} %</td><td>${esc(d.Reason || "")}</td></tr>`);
  const schedRows = ((schedules && schedules.Schedules) || []).map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.expression)}</td><td>${esc(s.function)}${s.qualifier ? ":" + esc(s.qualifier) : ""}</td>
    <td>${esc(s.lastSlot || "–")}</td><td>${s.enabled ? esc(s.nextSlot || "–") : "disabled"}</td></tr>`);
  setView(`<h1>Stacks</h1>${table(["Stack", "Status", { label: "Functions", num: 1 }, { label: "Queues", num: 1 }, "Lint", "Reason"], stackRows, 'data-test="stacks"')}
    <h2>Lint findings</h2>${table(["Stack", "Id", "Severity", "Resource", "Finding", "Fix"], lintRows, 'data-test="stack-lint"')}
    <h2>Traffic-shifting deployments</h2>${table(["Id", "Alias", "Versions", "Type", "Status", { label: "Traffic", num: 1 }, "Reason"], depRows, 'data-test="deployments"')}
    <h2>Schedules</h2>${table(["Name", "Expression", "Target", "Last slot", "Next slot"], schedRows, 'data-test="schedules"')}`);
}

async function costView() {
  activeNav("cost");
  const [cost, advice] = await Promise.all([
    optionalJson("/nimbus/v1/cost?since=30d"),
    optionalJson("/nimbus/v1/cost/crossover"),
  ]);
  if (!cost) {
    setView(`<h1>Cost</h1><p class="muted">This server does not meter invocations yet.</p>`);
    return;
  }
  const fns = cost.Functions || [];
  const rows = fns.map((f) => `<tr data-test="cost-row"><td>${esc(f.FunctionName)}</td><td class="num">${f.Requests}</td><td class="num">${Number(f.GbSeconds).toFixed(3)}</td>
    <td class="num">${esc(f.Total ?? f.TotalUsd ?? "")}</td><td class="num">${esc(f.MonthProjection ?? f.MonthUsd ?? "")}</td></tr>`);
  let verdicts = "";
  let plots = "";
  for (const a of (advice && advice.Functions) || []) {
    verdicts += `<div class="verdict" data-test="verdict"><b>${esc(a.FunctionName)}</b>: ${esc(a.Verdict)}. <span class="muted">${esc(a.Explanation)}</span></div>`;
    plots += crossoverChart(a);
  }
  setView(`<h1>Cost</h1>
    ${table(["Function", { label: "Requests", num: 1 }, { label: "GB-s", num: 1 }, { label: "Cost", num: 1 }, { label: "Month projection", num: 1 }], rows, 'data-test="cost"')}
    ${verdicts ? `<h2>FaaS or reserved capacity?</h2><p class="muted">From each function's measured concurrency per minute; the instances are sized for its peak minute.</p>${verdicts}<div class="charts">${plots}</div>` : ""}`);
}

// ---------- router ----------

async function route() {
  stopTail();
  if (refreshTimer) clearTimeout(refreshTimer);
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/function/")) {
      await functionView(decodeURIComponent(hash.slice("#/function/".length)));
    } else if (hash === "#/queues") {
      await queuesView();
    } else if (hash === "#/stacks") {
      await stacksView();
    } else if (hash === "#/cost") {
      await costView();
    } else {
      await functionsView();
    }
    document.body.dataset.ready = "1";
  } catch (err) {
    setView(`<p class="error">${esc(err.message)}</p>`);
  }
  // The function view keeps its live tail and is refreshed by navigating back to it.
  if (!hash.startsWith("#/function/")) refreshTimer = setTimeout(route, REFRESH_MS);
}

async function header() {
  const info = await optionalJson("/nimbus/v1/info");
  if (info) document.getElementById("account").textContent = `account ${info.AccountId} · ${info.Region}`;
}

window.addEventListener("hashchange", route);
header();
route();
