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
  // GDB sends `initialized` right after answering `initialize`: a client
  // that waits for it there sets dc.initialized first.
  const initialized = dc.initialized || dc.waitForEvent('initialized', TIMEOUT);
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

async function frames(dc, threadId, levels) {
  return (await dc.stackTraceRequest({ threadId, startFrame: 0,
                                       levels: levels || 20 }))
    .body.stackFrames;
}

// Run EXPRESSION in the debug console; its output, or the error's text.
async function repl(dc, expression) {
  try {
    return (await dc.evaluateRequest({ expression, context: 'repl' }))
      .body.result;
  } catch (e) {
    return e.message;
  }
}

// `lldbprog panic` stopped by a panic catch (stop event EV): the stop is
// on the panicking coroutine's thread, whose stack has `panicker` at LINE.
async function checkPanicStop(dc, ev, line) {
  const threads = await coroutineThreads(dc, 1);
  const t = threads.find((x) => x.id === ev.threadId);
  assert.ok(t, 'stopped thread not listed');
  assert.match(t.name,
               /^coro 7 panicker \[panicked: bad request 7\] on thread \d+$/);
  const st = await frames(dc, t.id, 10);
  const p = st.find((f) => f.name.startsWith('panicker'));
  assert.ok(p, st.map((f) => f.name).join(' | '));
  assert.strictEqual(p.line, line);
}

// `lldbprog corrupt magic` stopped at example_checkpoint (EV): the OS
// threads only, their frames, and LIST (the listing command) says why.
async function checkCorruptTable(dc, ev, list) {
  const threads = (await dc.threadsRequest()).body.threads;
  assert.ok(threads.some((t) => t.id === ev.threadId));
  assert.strictEqual(threads.filter((t) => (t.name || '')
    .startsWith('coro ')).length, 0);
  const st = await frames(dc, ev.threadId, 3);
  assert.ok(st[0].name.startsWith('example_checkpoint'), st[0].name);
  assert.match(await repl(dc, list),
               /bad magic 7f584f524f444247: not a corodbg table/);
}

// `lldbprog list 30` at example_checkpoint with the thread cap at 5: the
// five newest coroutines, the last named with the cut and LISTING (the
// debugger's listing command); SELECT (its command selecting coroutine
// 2) gives that coroutine past the cap a thread, with its own stack.
async function checkCap(dc, listing, select) {
  let threads = await coroutineThreads(dc, 5);
  const coro = threads.filter((t) => (t.name || '').startsWith('coro '));
  assert.deepStrictEqual(coro.map((t) => t.id - 0x100000000),
                         [26, 27, 28, 29, 30]);
  assert.strictEqual(coro[4].name,
                     'coro 30 yielder [runnable] (+25 more: see ' + listing + ')');
  await repl(dc, select);
  threads = (await dc.threadsRequest()).body.threads;
  const t2 = byName(threads, 'coro 2 sleeper [blocked: sleep]');
  const st = await frames(dc, t2.id, 5);
  assert.ok(st.some((f) => f.name.startsWith('sleeper')),
            st.map((f) => f.name).join(' | '));
}

module.exports = { TIMEOUT, stop, startSession, coroutineThreads, byName,
                   localsOf, frames, repl, checkPanicStop, checkCorruptTable,
                   checkCap };
