// Waylay's web view. The server keeps the filtered, sorted list; this
// page asks for the rows it shows (a window) and hears of changes on one
// push channel. Nothing here grows with the number of flows.

import { el } from "/js/dom.js";
import { VIEWS, guessView, kv, renderBody } from "/js/views.js";
import { openPalette } from "/js/palette.js";
import { compareCapture, compareFlows } from "/js/compare.js";
import { newDraft, pasteCurl } from "/js/compose.js";
import { runForm } from "/js/runs.js";
import { rulesPane } from "/js/rules.js";

const ROW = 22;            // px per row
const MAX_PX = 8_000_000;  // the tallest scroll area browsers handle well
const BODY_CHUNK = 256 * 1024;

const $ = (id) => document.getElementById(id);

const state = {
  filter: "", highlight: "", sort: "time", desc: false,
  total: 0, matched: 0, first: 0, rows: [], selected: null, selectedPos: null,
  detail: null, tab: "request", asked: 0, version: -1, editing: false,
  chosen: new Set(), sideBySide: false,
};

// ---- the list ------------------------------------------------------------

function visibleCount() {
  return Math.max(1, Math.ceil($("list").clientHeight / ROW) + 1);
}

/** The first row shown for the scroll position (scaled past MAX_PX). */
function firstRow() {
  const list = $("list");
  const height = state.matched * ROW;
  const room = Math.max(0, state.matched - visibleCount() + 1);
  if (height <= MAX_PX) return Math.min(room, Math.floor(list.scrollTop / ROW));
  const scrollable = Math.max(1, list.scrollHeight - list.clientHeight);
  return Math.min(room, Math.round((list.scrollTop / scrollable) * room));
}

function params(extra) {
  const p = new URLSearchParams({ sort: state.sort, desc: state.desc ? "1" : "0", ...extra });
  if (state.filter) p.set("filter", state.filter);
  if (state.highlight) p.set("highlight", state.highlight);
  return p;
}

let inflight = null;
async function refresh() {
  const first = firstRow();
  const count = visibleCount();
  const asked = ++state.asked;
  if (inflight) inflight.abort();
  inflight = new AbortController();
  let resp;
  try {
    resp = await fetch("/api/flows?" + params({ start: first, count }), { signal: inflight.signal });
  } catch (e) {
    return; // aborted by a newer ask
  }
  if (asked !== state.asked) return;
  const body = await resp.json();
  if (resp.status === 400) return showFilterError(body);
  if (!resp.ok) return;
  showFilterError(null);
  state.total = body.total;
  state.matched = body.matched;
  state.first = body.start;
  state.rows = body.rows;
  render();
}

function showFilterError(err) {
  const box = $("filter-error");
  for (const id of ["filter", "highlight", "intercept"]) $(id).classList.toggle("bad", !!err && err.field === id);
  if (!err) { box.hidden = true; return; }
  const text = err.field ? $(err.field).value : "";
  box.textContent = `${err.field || "error"}: ${err.error}` +
    (err.field ? `\n${" ".repeat(err.field.length + 2)}${text}\n${" ".repeat(err.field.length + 2 + (err.position || 0))}^` : "");
  box.hidden = false;
}

const pad = (n) => String(n).padStart(2, "0");
function clock(t) {
  if (!t) return "";
  const d = new Date(t * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}
function size(n) {
  if (n < 1024) return n + "b";
  for (const [unit, k] of [["k", 1024], ["m", 1024 ** 2], ["g", 1024 ** 3]]) {
    if (n < k * 1024 || unit === "g") return (n / k < 10 ? (n / k).toFixed(1) : Math.round(n / k)) + unit;
  }
}
function duration(s) {
  if (s == null) return "";
  return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 0) + "ms" : s.toFixed(2) + "s";
}

function render() {
  $("spacer").style.height = Math.min(state.matched * ROW, MAX_PX) + "px";
  $("counts").textContent = state.filter
    ? `${state.matched.toLocaleString()} of ${state.total.toLocaleString()} flows`
    : `${state.total.toLocaleString()} flows`;
  const rows = $("rows");
  rows.replaceChildren(...state.rows.map((r, i) => {
    const icons = [];
    if (r.tls) icons.push(el("span", { className: "icon", title: "TLS", textContent: "TLS" }));
    if (r.replay) icons.push(el("span", { className: "icon", title: "replayed", textContent: "↻" }));
    if (r.intercepted) icons.push(el("span", { className: "icon", title: "intercepted", textContent: "⏸" }));
    if (r.killed) icons.push(el("span", { className: "icon", title: "killed", textContent: "✕" }));
    else if (r.error) icons.push(el("span", { className: "icon", title: "error", textContent: "!" }));
    if (r.marked) icons.push(el("span", { className: "icon mark", title: "marked " + r.marked, textContent: "●" }));
    const row = el("div", { className: "row", role: "row" },
      el("span", { className: "c-time", textContent: clock(r.time) }),
      el("span", { className: "c-method", textContent: r.method }),
      el("span", { className: "c-url", title: r.url }, ...icons, r.url),
      el("span", { className: "c-status", textContent: r.status || (r.error ? "err" : "") }),
      el("span", { className: "c-type", textContent: r.type }),
      el("span", { className: "c-size", textContent: size(r.size) }),
      el("span", { className: "c-duration", textContent: duration(r.duration) }));
    row.dataset.n = r.n;
    row.dataset.pos = state.first + i;
    row.classList.toggle("selected", r.n === state.selected);
    row.classList.toggle("chosen", state.chosen.has(r.n));
    row.classList.toggle("highlighted", r.highlighted);
    row.classList.toggle("error", r.error);
    row.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey) choose([r.n], !state.chosen.has(r.n));
      else if (e.shiftKey && state.selectedPos != null) chooseRange(state.selectedPos, state.first + i);
      else if (state.chosen.size) choose([...state.chosen], false);
      select(r.n, state.first + i, !(e.ctrlKey || e.metaKey || e.shiftKey));
    });
    return row;
  }));
  for (const span of $("columns").children) {
    span.classList.toggle("sorted", span.dataset.sort === state.sort);
    span.classList.toggle("desc", state.desc);
  }
}

/** Adds flows to the selection (or takes them out). */
function choose(ns, on) {
  for (const n of ns) on ? state.chosen.add(n) : state.chosen.delete(n);
  showSelection();
  render();
}

/** Chooses the rows from list position `a` to `b` (those on screen). */
function chooseRange(a, b) {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  choose(state.rows.filter((_, i) => state.first + i >= lo && state.first + i <= hi).map((r) => r.n), true);
}

/** The flows an action applies to: the selection, else the current flow. */
function targets() {
  if (state.chosen.size) return [...state.chosen].sort((a, b) => a - b);
  return state.selected != null ? [state.selected] : [];
}

/** Runs `action` on each target flow, one after the other. */
async function actOnTargets(action, body) {
  const ns = targets();
  if (!ns.length) return status("select a flow first", true);
  let done = 0;
  for (const n of ns) if (await act(n, action, body, ns.length > 1)) done += 1;
  if (ns.length > 1) status(`${action}: ${done} of ${ns.length} flows`, done < ns.length);
  if (action === "delete") { state.chosen.clear(); showSelection(); }
}

/** The bar that says how many flows are selected, with what to do. */
function showSelection() {
  const bar = $("selection");
  bar.hidden = state.chosen.size < 1;
  if (bar.hidden) return;
  const ns = targets().join(",");
  const button = (label, run) => el("button", { type: "button", textContent: label, onclick: run });
  bar.replaceChildren(el("strong", { textContent: `${state.chosen.size} selected` }),
    button("Replay", () => actOnTargets("replay")),
    button("Duplicate", () => actOnTargets("duplicate")),
    button("Mark", () => actOnTargets("edit", { marked: ":default:" })),
    button("Run script…", openRun),
    button("Unmark", () => actOnTargets("edit", { marked: "" })),
    button("Delete", () => actOnTargets("delete")),
    state.chosen.size === 2 ? button("Compare", () => showCompare(...targets())) : "",
    button("curl", () => exportText("curl")),
    el("a", { href: `/api/save?format=mitm&flows=${ns}`, download: "flows.mitm", textContent: "Export .mitm" }),
    el("a", { href: `/api/save?format=har&flows=${ns}`, download: "flows.har", textContent: "Export HAR" }),
    button("Clear", () => choose([...state.chosen], false)));
}

/** The targets as curl (or HTTPie, raw) commands, one after another. */
async function exportText(format) {
  const texts = [];
  for (const n of targets()) {
    const resp = await fetch(`/api/flows/${n}/export/${format}`);
    const text = await resp.text();
    if (!resp.ok) return status(`flow ${n}: ${JSON.parse(text).error}`, true);
    texts.push(text);
  }
  $("detail").hidden = false;
  $("pane").prepend(el("pre", { className: "body export", textContent: texts.join("\n\n") }));
}

/** Selects flow `n`, at `pos` in the list; opens it when `open`. */
function select(n, pos, open) {
  state.selected = n;
  state.selectedPos = pos;
  render();
  if (open || !$("detail").hidden) openDetail(n);
}

/** Moves the selection by `by` rows, scrolling it into view. */
async function move(by) {
  if (state.matched === 0) return;
  const pos = Math.max(0, Math.min(state.matched - 1, (state.selectedPos ?? (by > 0 ? -1 : state.matched)) + by));
  const first = firstRow();
  const shown = visibleCount() - 1;
  if (pos < first || pos >= first + shown) {
    const list = $("list");
    const target = pos < first ? pos : pos - shown + 1;
    if (state.matched * ROW <= MAX_PX) list.scrollTop = target * ROW;
    else list.scrollTop = (target / Math.max(1, state.matched - visibleCount() + 1)) * (list.scrollHeight - list.clientHeight);
    await refresh();
  }
  // The rows there may not have arrived yet (a jump far away).
  if (!state.rows[pos - state.first]) await refresh();
  const row = state.rows[pos - state.first];
  if (row) select(row.n, pos, false);
}

// ---- the detail pane -----------------------------------------------------

async function openDetail(n) {
  const resp = await fetch(`/api/flows/${n}`);
  if (!resp.ok) return;
  state.detail = await resp.json();
  $("detail").hidden = false;
  const tabs = detailTabs(state.detail);
  if (!tabs.includes(state.tab)) state.tab = tabs[0];
  showDetail();
}

function detailTabs(f) {
  const tabs = [];
  if (f.request) tabs.push("request");
  if (f.response) tabs.push("response");
  if (f.websocket || f.messages) tabs.push("messages");
  tabs.push("connection", "timing");
  if (f.error) tabs.push("error");
  if (!f.live) tabs.push("comment");
  return tabs;
}

function nextTab(by) {
  if (!state.detail) return;
  const tabs = detailTabs(state.detail);
  state.tab = tabs[(tabs.indexOf(state.tab) + by + tabs.length) % tabs.length];
  showDetail();
}

/** Runs an action on flow `n`; says what went wrong in the log line. */
async function act(n, action, body, quiet) {
  const resp = await fetch(`/api/flows/${n}/${action}`, {
    method: "POST",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!resp.ok && resp.status !== 202) {
    let msg = `${action} failed (${resp.status})`;
    try { msg = (await resp.json()).error; } catch {}
    status(msg, true);
    return false;
  }
  if (!quiet) status(`${action}: done`, false);
  const shown = state.detail?.n === n && !$("detail").hidden;
  if (shown && action !== "delete" && action !== "replay" && action !== "duplicate") openDetail(n);
  if (action === "delete" && state.selected === n) { closeDetail(); state.selected = null; }
  return true;
}

function status(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("bad", bad);
}

const ACTIONS = {
  replay: { key: "r", label: "Replay", run: () => actOnTargets("replay") },
  duplicate: { key: "D", label: "Duplicate", run: () => actOnTargets("duplicate") },
  revert: { key: "V", label: "Revert edits", run: () => actOnTargets("revert") },
  delete: { key: "d", label: "Delete from view", run: () => actOnTargets("delete") },
  kill: { key: "x", label: "Kill (intercepted or in flight)", run: () => killSelected() },
  mark: {
    key: "m", label: "Mark / unmark",
    run: (n) => {
      const row = state.rows.find((r) => r.n === n);
      const marked = row ? row.marked : state.detail?.marked;
      return act(n, "edit", { marked: marked ? "" : ":default:" });
    },
  },
  edit: { key: "e", label: "Edit request", run: () => { state.editing = true; state.tab = "request"; showDetail(); } },
  compose: { key: "C", label: "Compose from this flow", run: (n) => openCompose({ from: n }) },
};

/** The Compose tab, on a new draft made from `start` (or a curl paste box). */
function openCompose(start) {
  state.detail = null;
  $("detail").hidden = false;
  $("tabs").replaceChildren(el("button", { type: "button", className: "active", textContent: "Compose" }));
  const hooks = { status, openFlow: (n) => openDetail(n) };
  if (start === "curl") pasteCurl($("pane"), hooks);
  else newDraft($("pane"), start, hooks);
}

function toolbar(f) {
  const bar = el("div", { className: "toolbar" });
  if (f.live) {
    const kill = el("button", { type: "button", textContent: "Kill", title: "Kill this flow in flight (x)" });
    kill.addEventListener("click", () => killLive(f.id));
    bar.append(el("span", { className: "icon", textContent: `⧗ in flight: ${f.stage}` }), " ", kill);
    return bar;
  }
  for (const [name, a] of Object.entries(ACTIONS)) {
    const b = el("button", { type: "button", textContent: a.label, title: `${a.label} (${a.key})` });
    b.dataset.action = name;
    b.addEventListener("click", () => a.run(f.n));
    bar.append(b);
  }
  const side = el("button", { type: "button", textContent: state.sideBySide ? "Tabs" : "Side by side", title: "Request and response side by side (s)" });
  side.addEventListener("click", toggleSideBySide);
  bar.append(side);
  const colours = el("select", { title: "mark colour" });
  for (const c of ["", ":default:", ":red:", ":orange:", ":yellow:", ":green:", ":blue:", ":purple:"]) {
    colours.append(el("option", { value: c, textContent: c || "(unmarked)", selected: (f.marked || "") === c }));
  }
  colours.addEventListener("change", () => act(f.n, "edit", { marked: colours.value }));
  bar.append(colours);
  const exports = el("span", { className: "exports" }, "Export: ");
  for (const fmt of ["curl", "httpie", "raw", "har", "mitm"]) {
    const a = el("a", { href: `/api/flows/${f.n}/export/${fmt}`, textContent: fmt });
    if (fmt === "curl" || fmt === "httpie") {
      a.addEventListener("click", async (e) => {
        e.preventDefault();
        const resp = await fetch(a.href);
        const text = await resp.text();
        if (!resp.ok) { status(JSON.parse(text).error, true); return; }
        $("pane").prepend(el("pre", { className: "body export", textContent: text }));
      });
    } else {
      a.download = "";
    }
    exports.append(a, " ");
  }
  bar.append(exports);
  return bar;
}

/**
 * A form for a request (method, URL) or response (status, reason), its
 * headers and body; `save` gets the fields as the edit API takes them.
 */
function editor(m, which, bodyUrl, save, cancel) {
  const form = el("form", { className: "editor" });
  const first = which === "request"
    ? [el("input", { name: "method", value: m.method }), el("input", { name: "url", value: m.url, className: "wide" })]
    : [el("input", { name: "status_code", value: m.status_code }), el("input", { name: "reason", value: m.reason ?? "" })];
  const headers = el("textarea", { name: "headers", rows: 8, value: m.headers.map(([k, v]) => `${k}: ${v}`).join("\n") });
  const body = el("textarea", { name: "text", rows: 8 });
  fetch(bodyUrl).then((r) => (r.ok ? r.text() : "")).then((t) => { body.value = t; });
  const labels = which === "request" ? ["Method ", "URL "] : ["Status ", "Reason "];
  form.append(el("label", {}, labels[0], first[0]), el("label", {}, labels[1], first[1]),
    el("label", {}, "Headers", headers), el("label", {}, "Body", body),
    el("button", { type: "submit", textContent: "Save" }),
    el("button", { type: "button", textContent: "Cancel", onclick: cancel }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const pairs = headers.value.split("\n").filter((l) => l.trim()).map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
    const fields = { headers: pairs, text: body.value };
    if (which === "request") Object.assign(fields, { method: first[0].value, url: first[1].value });
    else Object.assign(fields, { status_code: Number(first[0].value), reason: first[1].value });
    await save({ [which]: fields });
  });
  return form;
}

function showDetail() {
  const f = state.detail;
  $("tabs").replaceChildren(...detailTabs(f).map((t) => {
    const b = el("button", { type: "button", textContent: t[0].toUpperCase() + t.slice(1), className: t === state.tab ? "active" : "" });
    b.dataset.tab = t;
    b.addEventListener("click", () => { state.tab = t; showDetail(); });
    return b;
  }));
  const pane = $("pane");
  pane.replaceChildren(toolbar(f));
  if (state.editing && state.tab === "request" && f.request) {
    pane.append(editor(f.request, "request", `/api/flows/${f.n}/request/body`,
      async (fields) => { state.editing = false; await act(f.n, "edit", fields); },
      () => { state.editing = false; showDetail(); }));
  } else if (state.sideBySide && (state.tab === "request" || state.tab === "response")) {
    const columns = el("div", { className: "side-by-side" });
    for (const which of ["request", "response"]) {
      const column = el("div", { className: "side" });
      columns.append(column);
      if (f[which]) showMessage(column, f, which);
      else column.append(el("h3", { textContent: `(no ${which})` }));
    }
    pane.append(columns);
  } else if (state.tab === "request" || state.tab === "response") {
    showMessage(pane, f, state.tab);
  } else if (state.tab === "messages") {
    const list = f.websocket ? f.websocket.messages : f.messages;
    pane.append(el("h3", { textContent: `${list.total} messages` }));
    if (f.websocket && f.websocket.close_code != null)
      pane.append(el("p", { textContent: `closed by ${f.websocket.closed_by_client ? "client" : "server"}: ${f.websocket.close_code} ${f.websocket.close_reason ?? ""}` }));
    for (const m of list.items) {
      pane.append(el("div", { className: "msg" },
        el("span", { className: "dir", textContent: m.from_client ? "client →" : "← server" }),
        el("span", { className: "dir", textContent: clock(m.timestamp) }),
        m.type ? el("span", { className: "dir", textContent: m.type }) : "",
        m.content));
    }
  } else if (state.tab === "connection") {
    for (const [name, c] of [["Client", f.client_conn], ["Server", f.server_conn]]) {
      if (!c) continue;
      const addr = (a) => (Array.isArray(a) ? a.join(":") : a);
      pane.append(el("h3", { textContent: name }), kv([
        ["address", addr(c.address ?? c.peername)], ["local", addr(c.sockname)],
        ["TLS", c.tls_version], ["SNI", c.sni], ["ALPN", c.alpn], ["cipher", c.cipher],
      ].filter(([, v]) => v != null)));
      for (const cert of c.certificates || []) pane.append(el("h3", { textContent: "Certificate" }), kv(Object.entries(cert)));
    }
  } else if (state.tab === "timing") {
    const rows = [];
    const add = (k, t) => t && rows.push([k, clock(t)]);
    add("client connected", f.client_conn?.timestamp_start);
    add("client TLS", f.client_conn?.timestamp_tls_setup);
    add("server connected", f.server_conn?.timestamp_tcp_setup);
    add("server TLS", f.server_conn?.timestamp_tls_setup);
    add("request start", f.request?.timestamp_start);
    add("request end", f.request?.timestamp_end);
    add("response start", f.response?.timestamp_start);
    add("response end", f.response?.timestamp_end);
    pane.append(kv(rows));
  } else if (state.tab === "error") {
    pane.append(kv([["message", f.error.msg], ["at", clock(f.error.timestamp)]]));
  } else if (state.tab === "comment") {
    const text = el("textarea", { id: "comment-text", rows: 6, value: f.comment || "", placeholder: "A note about this flow" });
    const save = el("button", { type: "button", textContent: "Save comment" });
    save.addEventListener("click", () => act(f.n, "edit", { comment: text.value }));
    pane.append(el("form", { className: "editor", onsubmit: (e) => e.preventDefault() },
      el("label", {}, "Comment", text), save));
  }
}

/** A request or response: first line, query, headers, trailers, body. */
function showMessage(into, f, which) {
  const m = f[which];
  const first = which === "request"
    ? `${m.method} ${m.url} ${m.http_version}`
    : `${m.http_version} ${m.status_code} ${m.reason ?? ""}`;
  into.append(el("h3", { textContent: first }));
  if (which === "request") {
    let query = [];
    try { query = [...new URL(m.url).searchParams]; } catch {}
    if (query.length) into.append(el("h3", { textContent: "Query" }), kv(query));
    into.append(el("h3", { textContent: "Headers" }));
  }
  into.append(kv(m.headers));
  if (m.trailers) into.append(el("h3", { textContent: "Trailers" }), kv(m.trailers));
  into.append(el("h3", { textContent: "Body" }));
  if (m.content_length == null) into.append(el("p", { textContent: "(not kept: streamed)" }));
  else if (m.content_length === 0) into.append(el("p", { textContent: "(empty)" }));
  else showBody(into, flowBase(f), which, m);
}

function toggleSideBySide() {
  state.sideBySide = !state.sideBySide;
  if (state.tab !== "request" && state.tab !== "response") state.tab = "request";
  if (state.detail) showDetail();
}

/**
 * Kills the flow open in the detail pane if it is intercepted or in
 * flight, else the oldest intercepted flow.
 */
function killSelected() {
  const open = $("detail").hidden ? null : state.detail;
  const paused = pausedFlows.find((p) => p.id && p.id === open?.id) ?? (open?.live ? null : pausedFlows[0]);
  if (paused) return interceptAct(paused.key, "kill");
  if (open?.live) return killLive(open.id);
  status("no intercepted or in-flight flow to kill", true);
}

function closeDetail() {
  $("detail").hidden = true;
  state.detail = null;
}

// ---- flows in flight -----------------------------------------------------

async function killLive(id) {
  const resp = await fetch(`/api/live/${encodeURIComponent(id)}/kill`, { method: "POST" });
  if (!resp.ok) {
    let msg = `kill failed (${resp.status})`;
    try { msg = (await resp.json()).error; } catch {}
    return status(msg, true);
  }
  status("killed: the flow joins the list with its error", false);
  if (state.detail?.id === id) closeDetail();
  loadInflight();
}

async function openLive(id) {
  const resp = await fetch(`/api/live/${encodeURIComponent(id)}`);
  if (!resp.ok) {
    let msg = `cannot open flow ${id}`;
    try { msg = (await resp.json()).error; } catch {}
    return status(msg, true);
  }
  state.detail = await resp.json();
  state.selected = null;
  render();
  $("detail").hidden = false;
  const tabs = detailTabs(state.detail);
  if (!tabs.includes(state.tab)) state.tab = tabs[0];
  showDetail();
}

let inflightShown = 0;
let inflightAsked = 0;
async function loadInflight() {
  const asked = ++inflightAsked;
  const p = new URLSearchParams({ filter: state.filter });
  const resp = await fetch(`/api/live?${p}`);
  if (asked !== inflightAsked) return; // a newer answer is coming
  const { flows, total } = resp.ok ? await resp.json() : { flows: [], total: 0 };
  inflightShown = total;
  $("inflight").hidden = total === 0;
  $("inflight-count").textContent = flows.length < total
    ? `${total} in flight (${flows.length} shown)`
    : `${total} in flight`;
  $("inflight-rows").replaceChildren(...flows.map((f) => {
    const row = el("div", { className: "inflight-flow" },
      el("span", { className: "icon", title: f.stage, textContent: "⧗" }), " ",
      el("span", { className: "c-time", textContent: clock(f.time) }), " ",
      el("span", { className: "c-method", textContent: f.method }), " ",
      el("span", { className: "inflight-url", textContent: f.url }), " ",
      el("span", { className: "stage", textContent: f.stage }), " ");
    row.dataset.id = f.id;
    const kill = el("button", { type: "button", textContent: "Kill", title: "Close its connection; it is recorded as killed" });
    kill.addEventListener("click", (e) => { e.stopPropagation(); killLive(f.id); });
    row.append(kill);
    row.addEventListener("click", () => openLive(f.id));
    return row;
  }));
  const open = $("detail").hidden ? null : state.detail;
  if (open?.live && !flows.some((f) => f.id === open.id)) {
    // Filtered out of the strip, or finished: only the latter closes it.
    const still = await fetch(`/api/live/${encodeURIComponent(open.id)}`);
    if (still.status === 404 && state.detail === open) closeDetail();
  }
}

/** Where a flow's API is: the list's number, or its id while in flight. */
function flowBase(f) {
  return f.live ? `/api/live/${encodeURIComponent(f.id)}` : `/api/flows/${f.n}`;
}

async function showBody(pane, base, which, m) {
  const holder = el("div", { className: "body-holder" });
  const bar = el("div", { className: "views" });
  pane.append(bar, holder);
  let loaded = new Uint8Array(0);
  let whole = 0;
  let view = "auto";
  const load = async () => {
    const resp = await fetch(`${base}/${which}/body?offset=${loaded.length}&limit=${BODY_CHUNK}`);
    if (!resp.ok) return;
    whole = Number(resp.headers.get("x-body-length"));
    const part = new Uint8Array(await resp.arrayBuffer());
    const joined = new Uint8Array(loaded.length + part.length);
    joined.set(loaded); joined.set(part, loaded.length);
    loaded = joined;
    draw();
  };
  const draw = () => {
    const chosen = view === "auto" ? guessView(m.content_type) : view;
    bar.replaceChildren(...VIEWS.map((v) => {
      const b = el("button", { type: "button", textContent: v, className: v === view ? "active" : "" });
      b.addEventListener("click", () => { view = v; draw(); });
      return b;
    }), el("a", { href: `${base}/${which}/body?download=1`, textContent: "download" }));
    holder.replaceChildren(renderBody(chosen, loaded, m.content_type));
    if (loaded.length < whole) {
      const more = el("button", { type: "button", textContent: `load more (${size(loaded.length)} of ${size(whole)})` });
      more.addEventListener("click", load);
      holder.append(more);
    }
  };
  await load();
}

// ---- intercept -----------------------------------------------------------

async function interceptAct(key, action, body) {
  const resp = await fetch(`/api/intercepted/${key}/${action}`, {
    method: "POST",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!resp.ok) {
    let msg = `${action} failed (${resp.status})`;
    try { msg = (await resp.json()).error; } catch {}
    status(msg, true);
  }
  loadIntercepted();
}

let pausedFlows = [];
async function loadIntercepted() {
  const resp = await fetch("/api/intercepted");
  if (!resp.ok) return;
  pausedFlows = (await resp.json()).flows;
  const box = $("intercepted");
  box.hidden = pausedFlows.length === 0;
  $("paused-count").textContent = `${pausedFlows.length} intercepted`;
  if (box.querySelector("form.editor")) return; // don't pull an edit away
  $("paused").replaceChildren(...pausedFlows.map((f) => {
    const line = f.event === "request"
      ? `${f.request.method} ${f.request.url}`
      : `${f.request.method} ${f.request.url} ← ${f.response.status_code} ${f.response.reason ?? ""}`;
    const row = el("div", { className: "paused-flow" },
      el("span", { className: "icon", textContent: "⏸ " + f.event }), " ", line, " ");
    row.dataset.key = f.key;
    const edit = el("button", { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => {
      const m = f[f.event];
      row.append(editor(m, f.event, `/api/intercepted/${f.key}/${f.event}/body`,
        async (fields) => {
          row.querySelector("form")?.remove();
          await interceptAct(f.key, "edit", fields);
        },
        () => { row.querySelector("form")?.remove(); }));
    });
    const resume = el("button", { type: "button", textContent: "Resume", title: "Resume (a)" });
    resume.addEventListener("click", () => interceptAct(f.key, "resume"));
    const kill = el("button", { type: "button", textContent: "Kill", title: "Kill (x)" });
    kill.addEventListener("click", () => interceptAct(f.key, "kill"));
    row.append(edit, resume, kill);
    return row;
  }));
}

async function setIntercept(text) {
  const resp = await fetch("/api/intercept", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ filter: text }),
  });
  if (resp.status === 400) showFilterError(await resp.json());
  else showFilterError(null);
}

// ---- the event log -------------------------------------------------------

let eventsNext = 0;
async function loadEvents(fromStart) {
  if ($("events").hidden) return;
  if (fromStart) { eventsNext = 0; $("event-lines").replaceChildren(); }
  const level = $("events-level").value;
  const resp = await fetch(`/api/log?after=${eventsNext}&level=${level}`);
  if (!resp.ok) return;
  const body = await resp.json();
  eventsNext = body.next;
  const box = $("event-lines");
  const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.append(...body.lines.map((l) => el("div", { className: `event ${l.level}`, textContent: `${l.level}: ${l.text}` })));
  while (box.children.length > 2000) box.firstChild.remove();
  if (atEnd) box.scrollTop = box.scrollHeight;
}

function toggleEvents() {
  $("events").hidden = !$("events").hidden;
  loadEvents(true);
}

// ---- files ---------------------------------------------------------------

/** Sends a chosen .mitm or HAR file to the server, which reads it in. */
async function openFile(file) {
  status(`reading ${file.name}…`, false);
  const resp = await fetch(`/api/open?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
  if (!resp.ok) {
    let msg = `open failed (${resp.status})`;
    try { msg = (await resp.json()).error; } catch {}
    return status(msg, true);
  }
  status(`reading ${file.name}: the flows appear as they are read (see Events)`, false);
}

/** The Rules pane: the everyday options as rows, in effect at once. */
function openRules() {
  state.detail = null;
  $("detail").hidden = false;
  $("tabs").replaceChildren(el("button", { type: "button", className: "active", textContent: "Rules" }));
  rulesPane($("pane"), { status });
}

/** The Run pane: a script on the selected flows (or a filter's), with a
 *  preview to apply or discard. */
function openRun() {
  state.detail = null;
  $("detail").hidden = false;
  $("tabs").replaceChildren(el("button", { type: "button", className: "active", textContent: "Run script" }));
  runForm($("pane"), targets(), state.filter, { status, openFlow: (n) => openDetail(n), refresh });
}

/** Flows `a` and `b` compared in the detail pane (`b` from the second
 *  capture when `bIn` is "other"). */
async function showCompare(a, b, bIn = "view", name = "") {
  state.detail = null;
  $("detail").hidden = false;
  $("tabs").replaceChildren(el("button", { type: "button", className: "active", textContent: "Compare" }));
  try { await compareFlows($("pane"), a, b, bIn, name); } catch (e) { status(`compare: ${e.message}`, true); }
}

/** The view's flows compared with the capture in `file`. */
async function compareWithFile(file) {
  status(`comparing with ${file.name}…`, false);
  state.detail = null;
  $("detail").hidden = false;
  $("tabs").replaceChildren(el("button", { type: "button", className: "active", textContent: "Compare captures" }));
  try {
    const c = await compareCapture($("pane"), file, (l, r, name) => showCompare(l, r, "other", name), (n) => openDetail(n));
    status(`compared with ${c.name}: ${c.differ.count} matched flow(s) differ`, false);
  } catch (e) { status(`compare: ${e.message}`, true); }
}

/** Downloads `href` as `name`. */
function download(href, name) {
  const a = el("a", { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---- the command palette -------------------------------------------------

function commands() {
  const flow = state.selected != null || state.chosen.size > 0;
  const list = [];
  for (const a of Object.values(ACTIONS)) if (flow) list.push({ name: a.label, key: a.key, run: () => a.run(state.selected) });
  if (flow) {
    for (const c of ["red", "orange", "yellow", "green", "blue", "purple"])
      list.push({ name: `Mark ${c}`, run: () => actOnTargets("edit", { marked: `:${c}:` }) });
    list.push({ name: "Unmark", run: () => actOnTargets("edit", { marked: "" }) });
    for (const fmt of ["curl", "httpie", "raw"]) list.push({ name: `Export as ${fmt}`, run: () => exportText(fmt) });
    list.push({ name: "Export as HAR", run: () => download(`/api/save?format=har&flows=${targets().join(",")}`, "flows.har") });
    list.push({ name: "Export as .mitm", run: () => download(`/api/save?format=mitm&flows=${targets().join(",")}`, "flows.mitm") });
    list.push({ name: "Comment", run: () => { state.tab = "comment"; openDetail(state.selected).then(() => $("comment-text")?.focus()); } });
    list.push({ name: "Request and response side by side", key: "s", run: toggleSideBySide });
    list.push({ name: "Select / unselect this flow", key: "Space", run: () => choose([state.selected], !state.chosen.has(state.selected)) });
    list.push({ name: "Clear the selection", run: () => choose([...state.chosen], false) });
    if (state.chosen.size === 2) list.push({ name: "Compare the two selected flows", key: "c", run: () => showCompare(...targets()) });
  }
  list.push(
    { name: "Filter", key: "/", run: () => $("filter").focus() },
    { name: "Highlight", run: () => $("highlight").focus() },
    { name: "Intercept", key: "i", run: () => $("intercept").focus() },
    { name: "Resume the oldest intercepted flow", key: "a", run: () => pausedFlows.length && interceptAct(pausedFlows[0].key, "resume") },
    { name: "Resume all intercepted flows", key: "A", run: () => fetch("/api/intercepted/resume-all", { method: "POST" }).then(loadIntercepted) },
    { name: "Event log", key: "E", run: toggleEvents },
    { name: "Open a .mitm or HAR file", key: "o", run: () => $("open-file").click() },
    { name: "Compare with a capture (.mitm or HAR)", run: () => $("compare-file").click() },
    { name: "New request (Compose)", run: () => openCompose({}) },
    { name: "Compose from a curl command", run: () => openCompose("curl") },
    { name: "Run a script on the selected flows (preview, then apply)", key: "R", run: openRun },
    { name: "Rules: map, modify, block, breakpoints", key: "O", run: openRules },
    { name: "Save all flows as .mitm", run: () => download("/api/save?format=mitm", "flows.mitm") },
    { name: "Save the filtered flows as .mitm", run: () => download("/api/save?" + new URLSearchParams({ format: "mitm", filter: state.filter }), "flows.mitm") },
    { name: "Save the filtered flows as HAR", run: () => download("/api/save?" + new URLSearchParams({ format: "har", filter: state.filter }), "flows.har") },
    { name: "First flow", key: "g", run: () => { $("list").scrollTop = 0; state.selectedPos = null; move(1); } },
    { name: "Last flow", key: "G", run: () => { $("list").scrollTop = $("list").scrollHeight; state.selectedPos = state.matched; move(-1); } },
  );
  for (const [sort, label] of [["time", "time"], ["method", "method"], ["url", "URL"], ["status", "status"], ["type", "type"], ["size", "size"], ["duration", "duration"]])
    list.push({ name: `Sort by ${label}`, run: () => { state.sort = sort; state.desc = false; refresh(); } });
  return list;
}

// ---- wiring --------------------------------------------------------------

function debounce(f, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); };
}

/** Runs `f` at most once every `ms`, the last call always included. */
function throttle(f, ms) {
  let last = 0, timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => { timer = null; last = Date.now(); f(); }, wait);
  };
}

function connect() {
  const ws = new WebSocket(`ws://${location.host}/api/updates`);
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    const p = msg.progress;
    $("progress").hidden = !p;
    if (p) {
      $("progress-bar").value = p.done / p.total;
      $("progress-text").textContent = `filtering ${p.done.toLocaleString()} of ${p.total.toLocaleString()}`;
    }
    if (msg.version !== state.version) {
      state.version = msg.version;
      refreshSoon();
      if (msg.intercepted || pausedFlows.length) loadIntercepted();
      loadEvents(false);
    }
    if (msg.inflight || inflightShown) loadInflightSoon();
  };
  ws.onclose = () => setTimeout(connect, 1000);
}

const refreshSoon = debounce(refresh, 30);
const loadInflightSoon = throttle(loadInflight, 250);

function init() {
  const list = $("list");
  list.addEventListener("scroll", refreshSoon);
  window.addEventListener("resize", refreshSoon);
  for (const id of ["filter", "highlight"]) {
    $(id).addEventListener("input", debounce(() => {
      state[id] = $(id).value.trim();
      if (id === "filter") { list.scrollTop = 0; state.selectedPos = null; loadInflight(); }
      refresh();
    }, 150));
  }
  fetch("/api/intercept").then((r) => r.json()).then((b) => { $("intercept").value = b.filter; });
  $("intercept").addEventListener("input", debounce(() => setIntercept($("intercept").value.trim()), 250));
  $("resume-all").addEventListener("click", () => fetch("/api/intercepted/resume-all", { method: "POST" }).then(loadIntercepted));
  $("events-toggle").addEventListener("click", toggleEvents);
  $("events-level").addEventListener("change", () => loadEvents(true));
  $("cancel").addEventListener("click", () => fetch("/api/filter/cancel", { method: "POST" }));
  for (const [id, format, filtered] of [["save-all", "mitm", false], ["save-filtered", "mitm", true], ["save-har", "har", true]]) {
    $(id).addEventListener("click", (e) => {
      const p = new URLSearchParams({ format });
      if (filtered && state.filter) p.set("filter", state.filter);
      $(id).href = "/api/save?" + p;
    });
  }
  for (const span of $("columns").children) {
    span.addEventListener("click", () => {
      if (state.sort === span.dataset.sort) state.desc = !state.desc;
      else { state.sort = span.dataset.sort; state.desc = false; }
      refresh();
    });
  }
  $("open").addEventListener("click", () => $("open-file").click());
  $("open-file").addEventListener("change", () => {
    const file = $("open-file").files[0];
    if (file) openFile(file);
    $("open-file").value = "";
  });
  $("compare-open").addEventListener("click", () => $("compare-file").click());
  $("compose-new").addEventListener("click", () => openCompose({}));
  $("compose-curl").addEventListener("click", () => openCompose("curl"));
  $("run-open").addEventListener("click", openRun);
  $("rules-open").addEventListener("click", openRules);
  $("compare-file").addEventListener("change", () => {
    const file = $("compare-file").files[0];
    if (file) compareWithFile(file);
    $("compare-file").value = "";
  });
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K")) {
      e.preventDefault();
      openPalette(commands);
      return;
    }
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (typing) {
      // Enter ends a one-line box; in a text area it is a new line.
      if (e.key === "Escape" || (e.key === "Enter" && e.target instanceof HTMLInputElement)) { e.target.blur(); list.focus(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = {
      j: () => move(1), ArrowDown: () => move(1),
      k: () => move(-1), ArrowUp: () => move(-1),
      Enter: () => state.selected != null && openDetail(state.selected),
      "/": () => $("filter").focus(),
      i: () => $("intercept").focus(),
      E: toggleEvents,
      a: () => pausedFlows.length && interceptAct(pausedFlows[0].key, "resume"),
      A: () => fetch("/api/intercepted/resume-all", { method: "POST" }).then(loadIntercepted),
      x: killSelected,
      s: toggleSideBySide,
      o: () => $("open-file").click(),
      c: () => state.chosen.size === 2 && showCompare(...targets()),
      C: () => state.selected != null && openCompose({ from: state.selected }),
      R: openRun,
      O: openRules,
      " ": () => state.selected != null && choose([state.selected], !state.chosen.has(state.selected)),
      Tab: () => nextTab(e.shiftKey ? -1 : 1),
      Escape: () => closeDetail(),
      r: () => state.selected != null && ACTIONS.replay.run(state.selected),
      D: () => state.selected != null && ACTIONS.duplicate.run(state.selected),
      d: () => state.selected != null && ACTIONS.delete.run(state.selected),
      V: () => state.selected != null && ACTIONS.revert.run(state.selected),
      m: () => state.selected != null && ACTIONS.mark.run(state.selected),
      e: () => state.selected != null && openDetail(state.selected).then(() => ACTIONS.edit.run(state.selected)),
      g: () => { list.scrollTop = 0; state.selectedPos = null; move(1); },
      G: () => { list.scrollTop = list.scrollHeight; state.selectedPos = state.matched; move(-1); },
    };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  });
  connect();
  refresh();
}

init();
