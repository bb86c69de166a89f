// DAP tests: corodbg's LLDB plugin driven through lldb-dap by a real DAP
// client (DebugClient from @vscode/debugadapter-testsupport), as an IDE
// would.  Run by tests/lldb/test_dap.py, which builds the inputs and sets:
//   CORODBG_LLDB_DIR   lldb/ of the repository (corodbg_lldb.py)
//   CORODBG_PROG       build/lldb/lldbprog
//   CORODBG_CORE       a kernel core of `lldbprog crash`
//   CORODBG_LINES      JSON {marker: line} of tests/lldb/progs/lldbprog.c
//                      and tests/progs/minirt.c
//   CORODBG_DAP        the adapter (default lldb-dap-19)
// The client never depends on the order of `launch`'s answer and the
// `initialized`/`stopped` events, and never asserts lldb-dap's exit code
// (lldb-dap 19 aborts when it exits).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const { TIMEOUT, stop, startSession, coroutineThreads, byName, localsOf,
        checkPanicStop, checkCorruptTable, checkCap } = require('./daputil');

const E = process.env;
const LLDB_DIR = E.CORODBG_LLDB_DIR;
const PROG = E.CORODBG_PROG;
const LINES = E.CORODBG_LINES ? JSON.parse(E.CORODBG_LINES) : {};
const ADAPTER = E.CORODBG_DAP || 'lldb-dap-19';
const SKIP = !LLDB_DIR || !PROG ? 'run through tests/lldb/test_dap.py' : false;

function initCommands() {
  return [`command script import ${path.join(LLDB_DIR, 'corodbg_lldb.py')}`];
}

async function client(extraEnv) {
  const dc = new DebugClient(ADAPTER, '--repl-mode=auto', 'lldb',
    { env: { ...E, ...(extraEnv || {}),
             LLDB_DEBUGSERVER_PATH: E.LLDB_DEBUGSERVER_PATH ||
             '/usr/lib/llvm-19/bin/lldb-server' } }, false);
  dc.defaultTimeout = TIMEOUT;
  await dc.start();
  const init = await dc.initializeRequest({
    adapterID: 'lldb-dap', clientID: 'corodbg-tests', linesStartAt1: true,
    columnsStartAt1: true, pathFormat: 'path', supportsVariableType: true,
  });
  assert.strictEqual(init.success, true);
  assert.strictEqual(init.body.supportsConfigurationDoneRequest, true);
  return dc;
}

// What the tests expect of `lldbprog list 6` / `crash` (see lldbprog.c).
async function checkCoroutines(dc, threads) {
  const expected = [
    ['coro 1 consumer [blocked: chan receive]', 0x100000001],
    ['coro 2 sleeper [blocked: sleep]', 0x100000002],
    ['coro 3 yielder [runnable]', 0x100000003],
    ['coro 4 consumer [blocked: chan receive]', 0x100000004],
    ['coro 5 sleeper [blocked: sleep]', 0x100000005],
    ['coro 6 yielder [runnable]', 0x100000006],
  ];
  for (const [name, id] of expected) {
    const t = byName(threads, name);
    assert.strictEqual(t.name, name);
    assert.strictEqual(t.id, id);
  }
  // The stack of coroutine 4 (a consumer blocked on the channel).
  const t4 = byName(threads, 'coro 4 consumer');
  const st = (await dc.stackTraceRequest({ threadId: t4.id, startFrame: 0,
                                           levels: 20 })).body.stackFrames;
  const names = st.map((f) => f.name.replace(/\(.*$/, '').trim());
  assert.deepStrictEqual(names.slice(0, 3), ['fx_park', 'fx_chan_recv', 'consumer']);
  const consumer = st[2];
  assert.strictEqual(path.basename(consumer.source.path), 'minirt.c');
  assert.strictEqual(consumer.line, LINES.LINE_CONSUMER_WAIT);
  const locals = await localsOf(dc, consumer.id);
  assert.strictEqual(locals.want, '30');   // arg 3 * 10
  assert.strictEqual(locals.got, '0');
  // A sleeper's locals, from another coroutine thread.
  const t5 = byName(threads, 'coro 5 sleeper');
  const st5 = (await dc.stackTraceRequest({ threadId: t5.id, startFrame: 0,
                                            levels: 20 })).body.stackFrames;
  const sleeper = st5.find((f) => f.name.startsWith('sleeper'));
  assert.strictEqual(sleeper.line, LINES.LINE_SLEEPER_WAIT);
  assert.strictEqual((await localsOf(dc, sleeper.id)).naps, '5');
}

test('launch with the plugin, stop at a breakpoint, coroutines as threads',
  { skip: SKIP, timeout: 60000 }, async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'launch', {
        program: PROG, args: ['list', '6'], cwd: path.dirname(PROG),
        initCommands: initCommands(), stopOnEntry: false,
      }, ['example_checkpoint']);
      assert.match(ev.reason, /breakpoint/);
      const threads = await coroutineThreads(dc, 6);
      const main = threads.find((t) => t.id === ev.threadId);
      assert.ok(main && !main.name.startsWith('coro '), 'stopped on ' +
                JSON.stringify(main));
      assert.strictEqual(threads.filter((t) => t.name.startsWith('coro '))
                         .length, 6);
      await checkCoroutines(dc, threads);
      // The debug console runs corodbg commands too (` escapes a command:
      // lldb-dap 19 does not see `coroutine` as one by itself).
      const r = await dc.evaluateRequest({ expression: '`coroutine list -state blocked',
                                           context: 'repl' });
      assert.match(r.body.result, /Shown 4 of 6 coroutines \(2 runnable, 4 blocked\)/);
    } finally {
      await stop(dc);
    }
  });

test('attach to a core file gives the same threads, stacks and locals',
  { skip: SKIP || (!E.CORODBG_CORE && 'no core file'), timeout: 60000 },
  async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'attach', {
        program: PROG, coreFile: E.CORODBG_CORE, initCommands: initCommands(),
      });
      const threads = await coroutineThreads(dc, 6);
      await checkCoroutines(dc, threads);
      // The crashed coroutine is named on the thread that took the signal.
      const crashed = byName(threads, 'coro 7 crasher [crashed: SIGSEGV');
      assert.strictEqual(crashed.id, ev.threadId);
      const st = (await dc.stackTraceRequest({ threadId: crashed.id,
                                               startFrame: 0, levels: 5 }))
        .body.stackFrames;
      assert.ok(st[0].name.startsWith('crasher'), st[0].name);
      assert.strictEqual(st[0].line, LINES.LINE_CRASH);
    } finally {
      await stop(dc);
    }
  });

test('panic-catch reaches the IDE on the panicking coroutine\'s thread',
  { skip: SKIP, timeout: 60000 }, async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'launch', {
        program: PROG, args: ['panic'], cwd: path.dirname(PROG),
        initCommands: initCommands(),
        preRunCommands: ['coroutine catch panic'],
      });
      assert.match(ev.description || '', /Coroutine 7 "panicker" panicked: bad request 7/);
      await checkPanicStop(dc, ev, LINES.LINE_PANIC);
    } finally {
      await stop(dc);
    }
  });

test('a corrupt table: the adapter survives, lists the real threads, ' +
     'and the command says what is wrong', { skip: SKIP, timeout: 60000 },
  async () => {
    const dc = await client();
    try {
      const ev = await startSession(dc, 'launch', {
        program: PROG, args: ['corrupt', 'magic'], cwd: path.dirname(PROG),
        initCommands: initCommands(),
      }, ['example_checkpoint']);
      // (` escapes a command: lldb-dap 19 does not see `coroutine` as one)
      await checkCorruptTable(dc, ev, '`coroutine list');
    } finally {
      await stop(dc);
    }
  });

test('the thread cap reaches the IDE: newest coroutines, a note in the ' +
     'last name, a selected coroutine added', { skip: SKIP, timeout: 60000 },
  async () => {
    const dc = await client({ CORODBG_LLDB_MAX_THREADS: '5' });
    try {
      await startSession(dc, 'launch', {
        program: PROG, args: ['list', '30'], cwd: path.dirname(PROG),
        initCommands: initCommands(),
      }, ['example_checkpoint']);
      // (` escapes a command: lldb-dap 19 does not see `coroutine` as one)
      await checkCap(dc, 'coroutine list', '`coroutine select 2');
    } finally {
      await stop(dc);
    }
  });
