// Rules: the everyday options (map_remote, map_local, modify_headers,
// modify_body, block_list, and breakpoints, which are intercept) as rows
// of filter, action and arguments. Every change goes to the server at
// once and is in effect for the next flow, as --set would have made it;
// a row that is wrong shows its error and is left out. Save writes the
// rules into the options file that `runner --options FILE` reads.

import { el, call } from "/js/dom.js";

let shown = null; // { pane, hooks, kinds, rules }

/** Opens the rules table in `pane`. `hooks.status(text, bad)` reports. */
export async function rulesPane(pane, hooks) {
  try {
    const [table, options] = await Promise.all([call("GET", "/api/rules"), call("GET", "/api/options")]);
    shown = { pane, hooks, table, options };
    draw();
  } catch (e) {
    hooks.status(`rules: ${e.message}`, true);
  }
}

function argumentsOf(kind) {
  return shown.table.kinds.find((k) => k.kind === kind)?.arguments ?? [];
}

/** The rows as the form holds them. */
function rows() {
  return [...document.querySelectorAll("#rules-rows tr.rule")].map((tr) => ({
    on: tr.querySelector(".rule-on").checked,
    kind: tr.querySelector(".rule-kind").value,
    filter: tr.querySelector(".rule-filter").value,
    args: [...tr.querySelectorAll(".rule-arg")].map((i) => i.value),
  }));
}

/** Where the focus is in the table: row and field, to put it back. */
function focusAt() {
  const a = document.activeElement;
  const tr = a?.closest?.("#rules-rows tr.rule");
  if (!tr) return null;
  return [[...document.querySelectorAll("#rules-rows tr.rule")].indexOf(tr), [...tr.querySelectorAll("input, select")].indexOf(a)];
}

/** Sends the table; the answer (with each row's error) is drawn, the
 *  focus left where it was (a change is sent as the focus moves on). */
async function apply(rules = rows()) {
  try {
    shown.table = await call("PUT", "/api/rules", { rules });
    const bad = shown.table.rules.filter((r) => r.error).length;
    shown.hooks.status(bad ? `rules: ${bad} rule(s) have errors and are left out` : "rules in effect", bad > 0);
    const at = focusAt();
    draw();
    if (at) document.querySelectorAll("#rules-rows tr.rule")[at[0]]?.querySelectorAll("input, select")[at[1]]?.focus();
  } catch (e) {
    shown.hooks.status(`rules: ${e.message}`, true);
  }
}

function row(rule) {
  const tr = el("tr", { className: "rule" + (rule.error ? " has-error" : "") });
  const on = el("input", { type: "checkbox", className: "rule-on", checked: rule.on, title: "on" });
  const kind = el("select", { className: "rule-kind" });
  for (const k of shown.table.kinds) kind.append(el("option", { value: k.kind, textContent: k.kind, selected: k.kind === rule.kind }));
  const filter = el("input", { className: "rule-filter", value: rule.filter, placeholder: "filter (empty: every flow)", spellcheck: false });
  const args = argumentsOf(rule.kind).map((name, i) =>
    el("input", { className: "rule-arg", value: rule.args[i] ?? "", placeholder: name, title: name, spellcheck: false }));
  const remove = el("button", { type: "button", className: "rule-remove", textContent: "✕", title: "remove this rule" });
  for (const input of [on, filter, ...args]) input.addEventListener("change", () => apply());
  kind.addEventListener("change", () => {
    // Another kind takes other arguments: start them empty.
    const all = rows();
    const i = [...document.querySelectorAll("#rules-rows tr.rule")].indexOf(tr);
    all[i].args = argumentsOf(kind.value).map(() => "");
    apply(all);
  });
  remove.addEventListener("click", () => {
    const all = rows();
    all.splice([...document.querySelectorAll("#rules-rows tr.rule")].indexOf(tr), 1);
    apply(all);
  });
  tr.append(el("td", {}, on), el("td", {}, kind), el("td", {}, filter), el("td", { className: "rule-args" }, ...args), el("td", {}, remove));
  const lines = [tr];
  if (rule.error) lines.push(el("tr", { className: "rule-error" }, el("td", { colSpan: 5, className: "error", textContent: rule.error })));
  return lines;
}

function draw() {
  const { pane, table } = shown;
  const body = el("tbody", { id: "rules-rows" });
  for (const r of table.rules) body.append(...row(r));
  const add = el("button", { type: "button", id: "rules-add", textContent: "Add rule" });
  add.addEventListener("click", () => {
    const kind = table.kinds[2].kind; // modify_headers, the everyday one
    body.append(...row({ on: true, kind, filter: "", args: argumentsOf(kind).map(() => ""), error: null }));
    body.querySelector("tr.rule:last-of-type .rule-filter")?.focus();
  });
  const path = el("input", { id: "rules-path", value: table.file, size: 40, title: "options file" });
  const save = el("button", { type: "button", id: "rules-save", textContent: "Save to options file" });
  save.addEventListener("click", async () => {
    try {
      const r = await call("POST", "/api/rules/save", { path: path.value });
      shown.hooks.status(`rules saved to ${r.saved}; runner --options ${r.saved} reads them`, false);
    } catch (e) { shown.hooks.status(`save: ${e.message}`, true); }
  });
  pane.replaceChildren(
    el("h3", { textContent: "Rules" }),
    el("p", { className: "hint", textContent: (table.live ? "In effect for the next flow, as --set would make them." : "Reading a file: map, modify and block rules act on live traffic, here only on replays.")
      + " Breakpoints pause matching flows after their request, their response, or both." }),
    el("table", { className: "rules" },
      el("thead", {}, el("tr", {}, ...["on", "rule", "filter", "arguments", ""].map((h) => el("th", { textContent: h })))),
      body),
    el("div", { className: "toolbar" }, add, " ", path, " ", save),
    optionsPanel());
}

/** Every option, with its value now: the registry's, then the scripts'. */
function optionsPanel() {
  const { options, scripts } = shown.options;
  const line = (o, where) => el("tr", {},
    el("td", { className: "option-name", textContent: o.name }),
    el("td", { textContent: Array.isArray(o.now) ? o.now.join("\n") : (o.now ?? "") }),
    el("td", { textContent: o.default }),
    el("td", { textContent: `${o.type}${o.repeatable ? ", repeatable" : ""}; ${where}` }),
    el("td", { textContent: o.help }));
  return el("details", { id: "options-panel" },
    el("summary", { textContent: `All options (${options.length + scripts.length}); set them with --set or the options file` }),
    el("table", { className: "kv options" },
      el("tr", {}, ...["option", "now", "default", "type", "help"].map((h) => el("th", { textContent: h }))),
      ...options.map((o) => line(o, o.applies)),
      ...scripts.map((o) => line(o, `from ${o.script}`))));
}
