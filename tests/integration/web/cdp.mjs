// cdp.mjs - drives a headless Chromium started with --remote-debugging-port through the
// DevTools protocol (node 20: run with --experimental-websocket) to check what needs
// interaction on a build's page: keyboard focus on a tick shows the call in #tip, the
// calls table filters by service and errors only, and no payload global exists.
//
// usage: node --experimental-websocket cdp.mjs DEBUG_PORT PAGE_URL
// prints one JSON object: {tip, errTip, rows, svcRows, errRows, pwned, focusable}
const [port, url] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function target() {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/json/new?about:blank`, { method: "PUT" });
      if (r.ok) return await r.json();
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Error("no DevTools endpoint on port " + port);
}

const t = await target();
const ws = new WebSocket(t.webSocketDebuggerUrl);
await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
let id = 0;
const waiting = new Map();
const events = [];
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && waiting.has(msg.id)) { waiting.get(msg.id)(msg); waiting.delete(msg.id); }
  else if (msg.method) events.push(msg.method);
};
const send = (method, params = {}) => new Promise((res) => {
  const n = ++id;
  waiting.set(n, res);
  ws.send(JSON.stringify({ id: n, method, params }));
});
const evaluate = async (expr) => {
  const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
  if (r.result.exceptionDetails) throw new Error(JSON.stringify(r.result.exceptionDetails));
  return r.result.result.value;
};

await send("Page.enable");
await send("Page.navigate", { url });
for (let i = 0; i < 100 && !events.includes("Page.loadEventFired"); i++) await sleep(100);

const out = {};
// Tab from the top of the page until a tick of the timeline has the focus
out.focusable = false;
for (let i = 0; i < 60 && !out.focusable; i++) {
  await send("Input.dispatchKeyEvent", { type: "keyDown", key: "Tab", code: "Tab", windowsVirtualKeyCode: 9 });
  await send("Input.dispatchKeyEvent", { type: "keyUp", key: "Tab", code: "Tab", windowsVirtualKeyCode: 9 });
  out.focusable = await evaluate("!!(document.activeElement && document.activeElement.matches('svg a.tk'))");
}
out.tip = await evaluate("document.getElementById('tip').textContent");
out.errTip = await evaluate(`(() => { const a = document.querySelector('svg a.tk.err'); if (!a) return '';
  a.focus(); return document.getElementById('tip').textContent; })()`);
out.rows = await evaluate("[...document.querySelectorAll('#calls tbody tr')].filter(r => !r.hidden).length");
out.errRows = await evaluate(`(() => { const e = document.getElementById('erronly'); e.checked = true;
  e.dispatchEvent(new Event('change')); return [...document.querySelectorAll('#calls tbody tr')].filter(r => !r.hidden).length; })()`);
out.svcRows = await evaluate(`(() => { document.getElementById('erronly').checked = false;
  const s = document.getElementById('svc'); s.value = s.options[1].value; s.dispatchEvent(new Event('change'));
  return [s.value, [...document.querySelectorAll('#calls tbody tr')].filter(r => !r.hidden).length]; })()`);
out.pwned = await evaluate("document.documentElement.getAttribute('data-pwned')");
console.log(JSON.stringify(out));
ws.close();
process.exit(0);
