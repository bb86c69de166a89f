// Helpers of the DAP client tests (dap.test.js: lldb-dap; gdbdap.test.js:
// `gdb -i=dap`): a session's start and end, and the lookups both check.
'use strict';
const assert = require('node:assert');

const TIMEOUT = 30000;

async function stop(dc) {
  // lldb-dap 19 aborts on exit: do not look at how it ends.
  try { await Promise.race([dc.disconnectRequest({ terminateDebuggee: true }),
                            new Promise((r) => setTimeout(r, 3000))]); }
  catch (e) { /* the adapter may already be gone */ }
  try { dc.stopAdapter ? dc.stopAdapter() : null; } catch (e) { /* ignore */ }
}

// Send REQUEST (launch or attach), configure, and wait for the first stop,
// in whatever order the adapter answers.
async function startSession(dc, request, args, functionBreakpoints) {
  const stopped = dc.waitForEvent('stopped', TIMEOUT);
  const initialized = dc.waitForEvent('initialized', TIMEOUT);
  const answered = request === 'launch' ? dc.launchRequest(args)
    : dc.attachRequest(args);
  await initialized;
  if (functionBreakpoints) {
    const r = await dc.setFunctionBreakpointsRequest({
      breakpoints: functionBreakpoints.map((name) => ({ name })) });
    assert.strictEqual(r.success, true);
  }
  await dc.configurationDoneRequest();
  const resp = await answered;
  assert.strictEqual(resp.success, true, `${request} failed: ${resp.message}`);
  return (await stopped).body;
}

// `threads`, asked again while the answer has no coroutine threads yet
// (lldb-dap 22's first answer after a stop can be stale).
async function coroutineThreads(dc, want) {
  let threads = [];
  for (let i = 0; i < 20; i++) {
    threads = (await dc.threadsRequest()).body.threads;
    if (threads.filter((t) => (t.name || '').startsWith('coro ')).length >= want) {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return threads;
}

function byName(threads, prefix) {
  const t = threads.find((x) => (x.name || '').startsWith(prefix));
  assert.ok(t, `no thread named ${prefix}...; threads: ` +
            threads.map((x) => x.name).join(' | '));
  return t;
}

async function localsOf(dc, frameId) {
  const scopes = (await dc.scopesRequest({ frameId })).body.scopes;
  const locals = scopes.find((s) => /local/i.test(s.name));
  assert.ok(locals, 'no Locals scope: ' + scopes.map((s) => s.name));
  const vars = (await dc.variablesRequest({
    variablesReference: locals.variablesReference })).body.variables;
  const out = {};
  for (const v of vars) out[v.name] = v.value;
  return out;
}

module.exports = { TIMEOUT, stop, startSession, coroutineThreads, byName,
                   localsOf };
