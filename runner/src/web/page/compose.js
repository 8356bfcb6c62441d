// Compose: edit a request (as fields or as raw text), send it through the
// proxy's own replay (once, N times in turn, or N at once), and see each
// send's response diffed against the one before. The server keeps the
// drafts and their sends; this module draws them, as text, never markup.

import { el, call } from "/js/dom.js";
import { compareInto } from "/js/compare.js";

let shown = null; // { id, raw: bool, pane, hooks, timer }

/** Opens a new draft made from `start` (`{from: N}`, `{curl}`, `{raw}`
 *  or `{}`) in `pane`. `hooks.status(text, bad)` reports; `hooks.openFlow(n)`
 *  opens a flow of the view. */
export async function newDraft(pane, start, hooks) {
  try {
    const entry = await call("POST", "/api/drafts", start);
    show(pane, entry, hooks);
  } catch (e) {
    hooks.status(`compose: ${e.message}`, true);
  }
}

/** Asks for a curl command, then opens it as a draft. */
export function pasteCurl(pane, hooks) {
  const text = el("textarea", { id: "curl-text", rows: 8, placeholder: "curl 'https://example.com/' -H 'accept: */*' …" });
  const go = el("button", { type: "button", id: "curl-go", textContent: "Make a draft" });
  go.addEventListener("click", () => newDraft(pane, { curl: text.value }, hooks));
  pane.replaceChildren(el("h3", { textContent: "Paste a curl command" }), text, el("div", {}, go));
  text.focus();
}

function show(pane, entry, hooks) {
  if (shown?.timer) clearTimeout(shown.timer);
  shown = { id: entry.id, raw: shown?.raw ?? false, pane, hooks, timer: null, diffed: -1 };
  draw(entry);
}

/** The form, the send bar, the sends and the latest diff. */
function draw(entry) {
  const { pane } = shown;
  const d = entry.draft;
  shown.lastBase64 = d.body_base64;
  const form = el("form", { className: "editor compose", onsubmit: (e) => e.preventDefault() });
  if (shown.raw) {
    form.append(el("label", {}, "Raw request", el("textarea", { id: "compose-raw", rows: 14, value: entry.raw })));
  } else {
    const binary = d.body_base64 != null;
    form.append(
      el("div", { className: "compose-line" },
        el("input", { id: "compose-method", value: d.method, size: 8, title: "method" }),
        el("input", { id: "compose-url", value: d.url, title: "URL", className: "compose-url" }),
        el("input", { id: "compose-version", value: d.http_version, size: 9, title: "HTTP version" })),
      el("label", {}, "Headers (Name: value, one a line)",
        el("textarea", { id: "compose-headers", rows: 6, value: d.headers.map(([n, v]) => `${n}: ${v}`).join("\n") })),
      el("label", {}, binary ? `Body (binary, ${atob(d.body_base64).length} bytes, sent as it is)` : "Body",
        el("textarea", { id: "compose-body", rows: 6, value: binary ? "" : d.body, disabled: binary })));
  }
  const count = el("input", { id: "compose-count", type: "number", min: 1, max: 1000, value: 1, size: 4, title: "copies" });
  const parallel = el("input", { id: "compose-parallel", type: "checkbox", title: "all at once" });
  const sendButton = el("button", { type: "button", id: "compose-send", textContent: "Send" });
  sendButton.addEventListener("click", () => send(Number(count.value) || 1, parallel.checked));
  const rawToggle = el("button", { type: "button", textContent: shown.raw ? "Fields" : "Raw" });
  rawToggle.addEventListener("click", async () => {
    const saved = await save();
    if (saved) { shown.raw = !shown.raw; draw(saved); }
  });
  const sends = el("div", { id: "compose-sends" });
  const diff = el("div", { id: "compose-diff" });
  pane.replaceChildren(
    el("h3", { textContent: `Draft ${entry.id}${entry.base != null ? ` (from flow ${entry.base})` : ""}` }),
    form,
    el("div", { className: "toolbar" }, sendButton, " copies ", count, el("label", {}, parallel, " all at once"), rawToggle),
    el("div", { id: "compose-error", className: "error", hidden: true }),
    sends, diff);
  drawSends(entry);
}

/** The form's draft (or raw text), saved on the server; the entry, or
 *  null after showing why not. */
async function save() {
  const body = shown.raw
    ? { raw: document.getElementById("compose-raw").value }
    : { draft: fields() };
  try {
    const entry = await call("PUT", `/api/drafts/${shown.id}`, body);
    document.getElementById("compose-error").hidden = true;
    return entry;
  } catch (e) {
    const box = document.getElementById("compose-error");
    box.textContent = e.message;
    box.hidden = false;
    return null;
  }
}

function fields() {
  const v = (id) => document.getElementById(id).value;
  const headers = v("compose-headers").split("\n").filter((l) => l.trim()).map((l) => {
    const i = l.indexOf(":");
    return i < 0 ? [l.trim(), ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  });
  const draft = { method: v("compose-method").trim(), url: v("compose-url").trim(), http_version: v("compose-version").trim(), headers };
  const body = document.getElementById("compose-body");
  if (!body.disabled) draft.body = body.value;
  else draft.body_base64 = shown.lastBase64;
  return draft;
}

async function send(count, parallel) {
  const saved = await save();
  if (!saved) return;
  try {
    await call("POST", `/api/drafts/${shown.id}/send`, { count, parallel });
    shown.hooks.status(`sent ${count} ${count === 1 ? "copy" : "copies"}${parallel ? " at once" : ""}`, false);
  } catch (e) {
    shown.hooks.status(`send: ${e.message}`, true);
    return;
  }
  shown.pollUntil = Date.now() + 60_000;
  poll();
}

/** Asks for the draft's sends until each has come back. */
async function poll() {
  if (!shown) return;
  clearTimeout(shown.timer);
  const id = shown.id;
  const entry = await call("GET", `/api/drafts/${id}`).catch(() => null);
  if (!entry || shown?.id !== id) return;
  drawSends(entry);
  if (!entry.sends.some((s) => s.n == null)) return;
  if (Date.now() < shown.pollUntil) shown.timer = setTimeout(poll, 250);
  else shown.hooks.status("a send has not come back after a minute; see Events for what happened to it", true);
}

function drawSends(entry) {
  const box = document.getElementById("compose-sends");
  if (!box) return;
  const ms = (s) => (s == null ? "" : `${(s * 1000).toFixed(1)} ms`);
  box.replaceChildren(el("h3", { textContent: `Sends (${entry.sends.length})` }));
  entry.sends.forEach((s, i) => {
    const row = el("div", { className: "compose-send" },
      `#${i + 1} `, s.n == null ? "waiting…" : `${s.error ? "error" : s.status} · ${ms(s.duration)} · ${s.size} bytes`);
    if (s.n != null) {
      row.append(" ", el("a", { href: "#", textContent: `flow ${s.n}`, onclick: (e) => { e.preventDefault(); shown.hooks.openFlow(s.n); } }));
      if (i > 0) row.append(" ", el("a", { href: "#", textContent: "diff with the one before", onclick: (e) => { e.preventDefault(); showDiff(i); } }));
    }
    box.append(row);
  });
  // The newest send that has come back, against the one before it.
  const last = entry.sends.length - 1;
  if (last > 0 && entry.sends[last].n != null && entry.sends[last - 1].n != null && shown.diffed !== last) {
    shown.diffed = last;
    showDiff(last);
  }
}

async function showDiff(i) {
  const box = document.getElementById("compose-diff");
  try {
    const d = await call("GET", `/api/drafts/${shown.id}/diff?send=${i}`);
    compareInto(box, d.compare, `send #${i} (flow ${d.left})`, `send #${i + 1} (flow ${d.right})`);
  } catch (e) {
    box.replaceChildren(el("p", { className: "bad", textContent: e.message }));
  }
}
