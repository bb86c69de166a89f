// The DAP `threads` answer at N coroutines, one adapter per run (driven by
// bench/dap-threads.sh, which runs lldb-dap and `gdb -i=dap` in the same
// run and prints the ratio).  Prints one line of JSON:
//   first  ms from the breakpoint's `stopped` event to the `threads` answer
//   step   ms of a stop and its `threads` answer (stepInstruction on the
//          main thread, then `threads`), best of K
//   again  ms of `threads` asked again at the same stop, best of K
//   threads, coroutine threads in the answer
//   node bench/dap_threads.js lldb|gdb ADAPTER PROG N [K]
'use strict';
const path = require('node:path');
const { DebugClient } = require(path.join(__dirname, '..', 'tests', 'dap',
  'node_modules', '@vscode', 'debugadapter-testsupport'));

const [kind, adapter, prog, n, kArg] = process.argv.slice(2);
const K = Number(kArg || 3);
const ROOT = path.join(__dirname, '..');
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const dc = kind === 'lldb'
    ? new DebugClient(adapter, '--repl-mode=auto', 'lldb', { env: process.env })
    : new DebugClient('sh', adapter, 'gdb', { env: process.env });
  dc.defaultTimeout = 600000;
  await dc.start();
  // GDB sends `initialized` as soon as it answers `initialize`
  const initialized = dc.waitForEvent('initialized', 600000);
  await dc.initializeRequest({ adapterID: kind, linesStartAt1: true,
                               columnsStartAt1: true, pathFormat: 'path' });
  const stopped = dc.waitForEvent('stopped', 600000);
  const args = { program: prog, args: ['list', n], cwd: path.dirname(prog) };
  if (kind === 'lldb') {
    args.initCommands = [
      `command script import ${path.join(ROOT, 'lldb', 'corodbg_lldb.py')}`];
  }
  const launched = dc.launchRequest(args);
  await initialized;
  await dc.setFunctionBreakpointsRequest({
    breakpoints: [{ name: 'example_checkpoint' }] });
  await dc.configurationDoneRequest();
  await launched;
  const ev = (await stopped).body;
  let t0 = now();
  let threads = (await dc.threadsRequest()).body.threads;
  const first = now() - t0;
  const count = (ts) => ts.filter((t) => (t.name || '').startsWith('coro '))
    .length;
  let again = Infinity;
  for (let i = 0; i < K; i++) {
    t0 = now();
    threads = (await dc.threadsRequest()).body.threads;
    again = Math.min(again, now() - t0);
  }
  let step = Infinity;
  for (let i = 0; i < K; i++) {
    const s = dc.waitForEvent('stopped', 600000);
    t0 = now();
    await dc.stepInRequest({ threadId: ev.threadId, granularity: 'instruction' });
    await s;
    threads = (await dc.threadsRequest()).body.threads;
    step = Math.min(step, now() - t0);
  }
  console.log(JSON.stringify({ adapter: kind, first: +first.toFixed(1),
    step: +step.toFixed(1), again: +again.toFixed(1),
    threads: threads.length, coroutine_threads: count(threads) }));
  try {
    await Promise.race([dc.disconnectRequest({ terminateDebuggee: true }),
                        new Promise((r) => setTimeout(r, 3000))]);
  } catch (e) { /* lldb-dap 19 aborts on exit */ }
  try { dc.stop(); } catch (e) { /* gone */ }
  process.exit(0);
}

main().catch((e) => { console.error(`dap_threads ${kind}: ${e.message}`);
                      process.exit(1); });
