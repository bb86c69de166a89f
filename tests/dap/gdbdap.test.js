// DAP tests of corodbg's hook in GDB's own DAP server (`gdb -i=dap`,
// GDB >= 14; gdb/corodbg_gdb/dap.py), driven by a real DAP client as an
// IDE would.  Run by tests/gdb/test_gdb_dap.py, which sets:
//   CORODBG_GDB_DAP  a script running `gdb -i=dap` with corodbg sourced
//                    (and `-ex "$CORODBG_DAP_EX"` when that is set)
//   CORODBG_PROG     build/lldb/lldbprog (the program the lldb-dap tests
//                    use: same coroutines, same names)
//   CORODBG_LINES    JSON {marker: line} of lldbprog.c and minirt.c
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const { TIMEOUT, stop, startSession, coroutineThreads, localsOf,
        frames, repl, checkPanicStop, checkCorruptTable, checkCap } =
  require('./daputil');

const E = process.env;
const PROG = E.CORODBG_PROG;
const LINES = E.CORODBG_LINES ? JSON.parse(E.CORODBG_LINES) : {};
const SKIP = !E.CORODBG_GDB_DAP || !PROG
  ? 'run through tests/gdb/test_gdb_dap.py' : false;
const BASE = 0x100000000;

async function client(extraEnv) {
  const dc = new DebugClient('sh', E.CORODBG_GDB_DAP, 'gdb',
    { env: { ...E, ...(extraEnv || {}) } }, false);
  dc.defaultTimeout = TIMEOUT;
  await dc.start();
  dc.initialized = dc.waitForEvent('initialized', TIMEOUT);
  const init = await dc.initializeRequest({
    adapterID: 'gdb', clientID: 'corodbg-tests', linesStartAt1: true,
    columnsStartAt1: true, pathFormat: 'path', supportsVariableType: true,
  });
  assert.strictEqual(init.success, true);
  return dc;
}

function launch(args) {
  return { program: PROG, args, cwd: path.dirname(PROG) };
}

const bare = (f) => f.name.replace(/\(.*$/, '').trim();

test('launch, stop at a breakpoint: coroutines as threads, their stacks ' +
     'and locals, equal to coroutine N bt', { skip: SKIP, timeout: 90000 },
  async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'launch', launch(['list', '6']),
                                    ['example_checkpoint']);
      assert.match(ev.reason, /breakpoint/);
      const threads = await coroutineThreads(dc, 6);
      const main = threads.find((t) => t.id === ev.threadId);
      assert.ok(main && !(main.name || '').startsWith('coro '),
                'stopped on ' + JSON.stringify(main));
      const coro = threads.filter((t) => (t.name || '').startsWith('coro '));
      assert.deepStrictEqual(coro.map((t) => [t.id, t.name]), [
        [BASE + 1, 'coro 1 consumer [blocked: chan receive]'],
        [BASE + 2, 'coro 2 sleeper [blocked: sleep]'],
        [BASE + 3, 'coro 3 yielder [runnable]'],
        [BASE + 4, 'coro 4 consumer [blocked: chan receive]'],
        [BASE + 5, 'coro 5 sleeper [blocked: sleep]'],
        [BASE + 6, 'coro 6 yielder [runnable]'],
      ]);
      // Coroutine 4's stack and locals, as `coroutine 4 bt` shows them.
      const st = await frames(dc, BASE + 4);
      assert.deepStrictEqual(st.slice(0, 3).map(bare),
                             ['fx_park', 'fx_chan_recv', 'consumer']);
      const bt = await repl(dc, 'coroutine 4 bt');
      const btNames = [...bt.matchAll(/^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(/gm)]
        .map((m) => m[1]);
      assert.deepStrictEqual(st.map(bare), btNames, bt);
      const consumer = st[2];
      assert.strictEqual(path.basename(consumer.source.path), 'minirt.c');
      assert.strictEqual(consumer.line, LINES.LINE_CONSUMER_WAIT);
      const locals = await localsOf(dc, consumer.id);
      assert.strictEqual(locals.want, '30');   // arg 3 * 10
      assert.strictEqual(locals.got, '0');
      // Another coroutine thread, then the OS thread again: each request
      // sees its own thread's frames.
      const st5 = await frames(dc, BASE + 5);
      const sleeper = st5.find((f) => f.name.startsWith('sleeper'));
      assert.strictEqual(sleeper.line, LINES.LINE_SLEEPER_WAIT);
      assert.strictEqual((await localsOf(dc, sleeper.id)).naps, '5');
      const top = await frames(dc, ev.threadId, 3);
      assert.ok(top[0].name.startsWith('example_checkpoint'), top[0].name);
      const sc = (await dc.scopesRequest({ frameId: top[0].id })).body.scopes;
      assert.ok(sc.length > 0);
      // Coroutine 4's frames, asked for again, still answer.
      assert.strictEqual((await localsOf(dc, consumer.id)).want, '30');
      // corodbg's commands in the debug console.
      assert.match(await repl(dc, 'info coroutines -state blocked'),
                   /Shown 4 of 6 coroutines \(2 runnable, 4 blocked\)/);
    } finally {
      await stop(dc);
    }
  });

test('catch coroutine panic: the stop is on the panicking coroutine\'s ' +
     'thread', { skip: SKIP, timeout: 90000 }, async () => {
  const dc = await client({ CORODBG_DAP_EX: 'catch coroutine panic' });
  try {
    const ev = await startSession(dc, 'launch', launch(['panic']));
    await checkPanicStop(dc, ev, LINES.LINE_PANIC);
  } finally {
    await stop(dc);
  }
});

test('a corrupt table: DAP keeps working with the OS threads, and the ' +
     'command says what is wrong', { skip: SKIP, timeout: 90000 },
  async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'launch', launch(['corrupt', 'magic']),
                                    ['example_checkpoint']);
      await checkCorruptTable(dc, ev, 'info coroutines');
    } finally {
      await stop(dc);
    }
  });

test('the thread cap: newest coroutines, a note in the last name, the ' +
     'coroutine being looked at added', { skip: SKIP, timeout: 90000 },
  async () => {
    const dc = await client({ CORODBG_GDB_MAX_THREADS: '5' });
    try {
      await startSession(dc, 'launch', launch(['list', '30']),
                         ['example_checkpoint']);
      await checkCap(dc, 'info coroutines', 'coroutine 2');
      // A coroutine's id that is no thread: a clear error, not a crash.
      let msg = '';
      try { await frames(dc, BASE + 999, 5); } catch (e) { msg = e.message; }
      assert.match(msg, /coroutine 999 no longer exists/);
    } finally {
      await stop(dc);
    }
  });
