// What every module of the page shares: making elements (text only, never
// markup) and calling the JSON API.

/** An element with `props` assigned and `children` appended. */
export const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};

/** A JSON request; gives the answer, or throws the server's error line. */
export async function call(method, url, body) {
  const resp = await fetch(url, {
    method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let answer = {};
  try { answer = text ? JSON.parse(text) : {}; } catch { answer = { error: text.trim() }; }
  if (!resp.ok) throw new Error(answer.error || `${method} ${url}: ${resp.status}`);
  return answer;
}
