// Compare: two flows side by side (summary, headers as multisets, bodies
// diffed, timing), and a second capture matched against the view's
// flows. The server does the comparing; this module only draws it, as
// text, never as markup.

import { el } from "/js/dom.js";

const text = (v) => (v == null ? "" : Array.isArray(v) ? v.join("\n") : String(v));

function clock(t) {
  if (t == null) return "";
  const d = new Date(t * 1000);
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/** A response's JSON, or `{error}` with its text when it is not JSON
 *  (the guard answers in plain text). */
async function answer(resp) {
  const text = await resp.text();
  try { return JSON.parse(text); } catch { return { error: text.trim() || `HTTP ${resp.status}` }; }
}

/** A table with a head row and body rows; `cls(row)` classes each row. */
function table(head, rows, cls = () => "") {
  return el("table", { className: "kv compare" },
    el("tr", {}, ...head.map((h) => el("th", { textContent: h }))),
    ...rows.map((r) => el("tr", { className: cls(r) }, ...r.cells.map((c) => el("td", { textContent: text(c) })))));
}

/** The comparison of flows `a` and `b` (`bIn`: "view" or "other"),
 *  drawn into `pane`. Gives the answer, or throws the server's error. */
export async function compareFlows(pane, a, b, bIn = "view", otherName = "") {
  const resp = await fetch(`/api/compare?a=${a}&b=${b}&b_in=${bIn}`);
  const c = await answer(resp);
  if (!resp.ok) throw new Error(c.error);
  const right = bIn === "other" ? `${otherName || "other capture"} #${b}` : `flow ${b}`;
  compareInto(pane, c, `flow ${a}`, right);
  return c;
}

/** A comparison the server made (`GET /api/compare`'s answer), drawn
 *  into `pane` under the two sides' names. */
export function compareInto(pane, c, left, right) {
  pane.replaceChildren(el("h3", { className: "compare-title", textContent: `${left} ↔ ${right}` }),
    el("p", { className: "compare-counts", textContent: c.differences.length
      ? `Differ in: ${c.differences.join(", ")}.` : "Alike (apart from Date, Age, Expires, Last-Modified and ETag)." }));
  pane.append(table(["", left, right],
    c.summary.map(([name, l, r, same]) => ({ cells: [name, l, r], same })),
    (r) => (r.same ? "" : "differs")));
  for (const which of ["request", "response"]) {
    const m = c[which];
    if (!m.present.left && !m.present.right) continue;
    pane.append(el("h3", { textContent: which[0].toUpperCase() + which.slice(1) + " headers" }));
    pane.append(table(["name", "left", "right", ""],
      m.headers.rows.map((h) => ({ cells: [h.name, h.left, h.right, h.state === "same" ? "" : h.state], state: h.state })),
      (r) => `state-${r.state}`));
    if (m.headers.order_changed) {
      pane.append(el("p", { className: "order-changed", textContent: "Header order changed." }),
        table(["left order", "right order"], [{ cells: [m.headers.order.left, m.headers.order.right] }]));
    }
    pane.append(el("h3", { textContent: which[0].toUpperCase() + which.slice(1) + " body" }), body(m.body));
  }
  pane.append(el("h3", { textContent: "Timing" }));
  pane.append(table(["", "left", "right", "difference"], c.timing.map(([name, l, r]) => {
    const span = name.endsWith("(s)");
    const show = (t) => (t == null ? "" : span ? `${(t * 1000).toFixed(1)} ms` : clock(t));
    const diff = span && l != null && r != null ? `${((r - l) * 1000).toFixed(1)} ms` : "";
    return { cells: [name, show(l), show(r), diff] };
  })));
}

/** A body comparison: JSON changes by path, a line diff, or sizes and hashes. */
function body(d) {
  const size = (s) => (s == null ? "none" : `${s} bytes`);
  switch (d.kind) {
    case "none": return el("p", { textContent: "No body on either side." });
    case "same": return el("p", { textContent: d.size.left ? `The same (${size(d.size.left)}, SHA-256 ${d.sha256}).` : "Both empty." });
    case "binary":
      return table(["", "left", "right"], [
        { cells: ["size", size(d.size.left), size(d.size.right)] },
        { cells: ["SHA-256", d.sha256.left, d.sha256.right] }]);
    case "json": {
      const box = el("div", { className: "json-diff" },
        el("p", { textContent: `${d.total} change${d.total === 1 ? "" : "s"}${d.total > d.changes.length ? ` (first ${d.changes.length} shown)` : ""}` }));
      box.append(table(["path", "", "left", "right"],
        d.changes.map((ch) => ({ cells: [ch.path, ch.kind, ch.left, ch.right], kind: ch.kind })),
        (r) => `state-${r.kind}`));
      return box;
    }
    default: {
      const box = el("div", { className: "text-diff" },
        el("p", { textContent: `${d.removed} line(s) removed, ${d.added} added${d.truncated ? " (first lines shown)" : ""}` }));
      for (const hunk of d.hunks) {
        const pre = el("pre", { className: "body diff" });
        for (const [tag, l, r, line] of hunk) {
          pre.append(el("span", { className: tag === "-" ? "del" : tag === "+" ? "ins" : "", textContent: `${tag} ${line}` }));
        }
        const first = hunk[0];
        box.append(el("div", { className: "hunk-head", textContent: `@@ left ${first[1] ?? "-"}, right ${first[2] ?? "-"}` }), pre);
      }
      return box;
    }
  }
}

/** Sends `file` as the second capture and draws how it compares with
 *  the view's flows into `pane`; `openPair(left, right)` opens a matched
 *  pair, `openFlow(n)` one of the view's flows. Throws the server's error. */
export async function compareCapture(pane, file, openPair, openFlow) {
  const resp = await fetch(`/api/compare/capture?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
  const c = await answer(resp);
  if (!resp.ok) throw new Error(c.error);
  pane.replaceChildren(
    el("h3", { className: "compare-title", textContent: `This view ↔ ${c.name}` }),
    el("p", { className: "compare-counts", textContent:
      `${c.totals.left} flows here, ${c.totals.right} in ${c.name}: ${c.matched} matched (${c.alike} alike, ${c.differ.count} differ), ` +
      `${c.left_only.count} only here, ${c.right_only.count} only in ${c.name}.` }));
  if (c.warning) pane.append(el("p", { className: "bad", textContent: c.warning }));
  const line = (f) => `${f.method || f.type} ${f.url} ${f.status || ""}`;
  const list = (title, items, count, draw) => {
    pane.append(el("h3", { textContent: `${title} (${count}${count > items.length ? `, first ${items.length} shown` : ""})` }));
    for (const item of items) pane.append(draw(item));
  };
  list("Matched, but different", c.differ.items, c.differ.count, (p) =>
    el("div", { className: "compare-pair", onclick: () => openPair(p.left.n, p.right.n, c.name) },
      el("span", { textContent: line(p.left) }),
      el("span", { className: "what", textContent: ` → ${p.right.status || ""}  (${p.what.join(", ")})` })));
  list("Only here", c.left_only.items, c.left_only.count, (f) =>
    el("div", { className: "compare-only", onclick: () => openFlow(f.n), textContent: line(f) }));
  list(`Only in ${c.name}`, c.right_only.items, c.right_only.count, (f) =>
    el("div", { className: "compare-only other", textContent: line(f) }));
  return c;
}
