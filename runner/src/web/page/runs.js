// A script on a selection: pick a script crate (or one of the -s
// scripts) and the flows (the selected ones, or those a filter matches);
// the server builds it, runs it on copies, and this module shows the
// build's lines, the progress, and the preview, flow by flow, as a diff.
// Apply puts the changes in the view; Discard drops them. Text only,
// never markup.

import { el, call } from "/js/dom.js";
import { compareInto } from "/js/compare.js";

let shown = null; // { run, pane, hooks, timer }

/** The form: script, argv, and which flows. `chosen` are the selected
 *  flows' numbers, `filter` the list's filter. `hooks.status(text, bad)`
 *  reports, `hooks.openFlow(n)` opens a flow, `hooks.refresh()` redraws
 *  the list. */
export async function runForm(pane, chosen, filter, hooks) {
  if (shown?.timer) clearTimeout(shown.timer);
  shown = null;
  let loaded = [];
  try { loaded = (await call("GET", "/api/scripts")).loaded; } catch (e) { hooks.status(`scripts: ${e.message}`, true); }
  const script = el("input", { id: "run-script", size: 40, placeholder: "path/to/script_crate",
    value: loaded[0]?.script ?? "" });
  script.setAttribute("list", "run-loaded"); // a read-only property
  const argv = el("input", { id: "run-argv", size: 30, placeholder: "words for start (optional)",
    value: (loaded[0]?.argv ?? []).join(" ") });
  const options = el("datalist", { id: "run-loaded" });
  for (const s of loaded) options.append(el("option", { value: s.script }));
  script.addEventListener("change", () => {
    const s = loaded.find((x) => x.script === script.value);
    if (s) argv.value = s.argv.join(" ");
  });
  const onChosen = el("input", { type: "radio", name: "run-on", id: "run-on-chosen", checked: chosen.length > 0, disabled: chosen.length === 0 });
  const onFilter = el("input", { type: "radio", name: "run-on", id: "run-on-filter", checked: chosen.length === 0 });
  const filterBox = el("input", { id: "run-filter", size: 30, value: filter || "~all", spellcheck: false });
  const go = el("button", { type: "button", id: "run-preview", textContent: "Preview" });
  go.addEventListener("click", async () => {
    const body = { script: script.value.trim(), argv: argv.value.split(/\s+/).filter(Boolean) };
    if (onChosen.checked) body.flows = chosen; else body.filter = filterBox.value;
    try {
      const { run } = await call("POST", "/api/runs", body);
      watch(pane, run, hooks);
    } catch (e) {
      const box = document.getElementById("run-error");
      box.textContent = e.message;
      box.hidden = false;
    }
  });
  pane.replaceChildren(
    el("h3", { textContent: "Run a script on flows" }),
    el("p", { className: "hint", textContent: "The crate is built as -s builds it and runs on copies of the flows in the offline event order. Nothing changes until you apply the preview." }),
    el("form", { className: "editor", onsubmit: (e) => e.preventDefault() },
      el("label", {}, "Script crate ", script), options,
      el("label", {}, "Arguments ", argv),
      el("div", {}, el("label", {}, onChosen, ` the ${chosen.length} selected flow(s)`)),
      el("div", {}, el("label", {}, onFilter, " the flows matching "), filterBox)),
    el("div", { className: "toolbar" }, go),
    el("div", { id: "run-error", className: "error", hidden: true }));
  script.focus();
}

/** Polls run `run` and draws it until it has a preview or fails. */
function watch(pane, run, hooks) {
  if (shown?.timer) clearTimeout(shown.timer);
  shown = { run, pane, hooks, timer: null, drawn: null };
  poll();
}

async function poll() {
  const me = shown;
  if (!me) return;
  let r;
  try { r = await call("GET", `/api/runs/${me.run}`); } catch (e) { me.hooks.status(`run: ${e.message}`, true); return; }
  if (shown !== me) return;
  draw(r);
  if (r.stage === "building" || r.stage === "running") me.timer = setTimeout(poll, 150);
}

function draw(r) {
  const { pane, hooks } = shown;
  const head = el("h3", { textContent: `Run ${r.run}: ${r.script}` });
  const stage = el("p", { id: "run-stage", className: "run-stage" });
  const buildLog = el("pre", { id: "run-build", className: "run-build", textContent: r.build.join("\n") });
  const parts = [head, stage];
  if (r.stage === "building") {
    stage.textContent = "Building…";
    parts.push(buildLog);
  } else if (r.stage === "running") {
    stage.textContent = `Running: ${r.progress.done} of ${r.progress.total} flow(s)`;
    parts.push(el("progress", { max: r.progress.total || 1, value: r.progress.done }));
  } else if (r.stage === "failed") {
    stage.textContent = `Failed: ${r.error}`;
    stage.classList.add("error");
    parts.push(buildLog);
  } else if (r.stage === "previewed") {
    const p = r.preview;
    stage.textContent = `Preview: ran on ${p.ran} flow(s) in ${r.run_ms} ms (built in ${r.build_ms} ms); ${p.changed} would change, ${p.panicked} panicked.`;
    const apply = el("button", { type: "button", id: "run-apply", textContent: "Apply" });
    const discard = el("button", { type: "button", id: "run-discard", textContent: "Discard" });
    apply.addEventListener("click", async () => {
      try {
        const a = await call("POST", `/api/runs/${r.run}/apply`);
        hooks.status(`applied to ${a.applied} flow(s)${a.skipped ? `; ${a.skipped} changed since the preview were left alone` : ""}`, false);
        hooks.refresh();
        poll();
      } catch (e) { hooks.status(`apply: ${e.message}`, true); }
    });
    discard.addEventListener("click", async () => {
      try { await call("POST", `/api/runs/${r.run}/discard`); hooks.status("preview discarded; nothing changed", false); poll(); } catch (e) { hooks.status(`discard: ${e.message}`, true); }
    });
    parts.push(el("div", { className: "toolbar" }, apply, discard));
    const list = el("div", { id: "run-changes", className: "run-changes" });
    for (const c of p.changes) {
      const what = [c.changed ? `changes ${c.differs.join(", ")}` : "", c.panic ? `panicked: ${c.panic}` : ""].filter(Boolean).join("; ");
      const row = el("div", { className: "run-change" + (c.panic ? " panicked" : "") });
      row.dataset.n = c.n;
      const open = el("button", { type: "button", textContent: `flow ${c.n}` });
      open.addEventListener("click", () => showDiff(r.run, c));
      row.append(open, " ", what);
      list.append(row);
    }
    if (p.listed < p.changed + p.panicked) list.append(el("p", { className: "hint", textContent: `…the first ${p.listed} are listed.` }));
    parts.push(list, el("div", { id: "run-diff", className: "run-diff" }));
  } else {
    stage.textContent = {
      applied: `Applied to ${r.applied?.applied ?? 0} flow(s)${r.applied?.skipped ? `; ${r.applied.skipped} left alone (changed since the preview)` : ""}. Revert a flow to undo.`,
      discarded: "Discarded: nothing changed.",
      cancelled: "Cancelled: nothing changed.",
    }[r.stage] ?? r.stage;
  }
  pane.replaceChildren(...parts);
  if (r.stage === "previewed" && r.preview.changes.length) showDiff(r.run, r.preview.changes[0]);
}

/** Change `c` of run `run`: its flow before and after, compared. */
async function showDiff(run, c) {
  const box = document.getElementById("run-diff");
  if (!box) return;
  for (const row of document.querySelectorAll(".run-change")) row.classList.toggle("chosen", Number(row.dataset.n) === c.n);
  try {
    const d = await call("GET", `/api/runs/${run}/diff?i=${c.i}`);
    compareInto(box, d, `flow ${c.n} now`, "after the script");
    if (d.panic) box.prepend(el("p", { className: "error", textContent: `A hook panicked on this flow: ${d.panic}. Applying marks it.` }));
  } catch (e) {
    box.textContent = e.message;
  }
}
