"""The LD_PRELOAD ucontext interposer (interpose/), proven on Debian's libpcl.

The programs (pcl_demo.c, uc_demo.c) never include corodbg.h.  gdb runs
them with LD_PRELOAD=libcorodbg-ucontext.so and gdb_driver.py prints the
table, decoded by corodbg's core (python/corodbg/core), at every
checkpoint and at every DEAD event (the in-process filter is armed for
DEAD).  Parked coroutines are unwound from their register blocks.
"""
import json
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
LIBPCL = "/usr/lib/x86_64-linux-gnu/libpcl.so.1"
REGS = ["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15"]
PCL_HELPER = "pcl:libpcl.so.1+0x1460"  # libpcl's static co_del_helper


@pytest.fixture(scope="module")
def lib(build):
    path = build / "interpose" / "libcorodbg-ucontext.so"
    assert path.exists(), "build it first: make %s" % path
    return str(path)


def program(build, name):
    path = build / "interpose" / "tests" / name
    assert path.exists(), "build it first: make test"
    return str(path)


def source_line(name, needle):
    """1-based line of the first line of tests/interpose/NAME with NEEDLE."""
    with open(os.path.join(HERE, name)) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return "%s:%d" % (name, n)
    raise AssertionError("%s not in %s" % (needle, name))


def drive(lib, prog, checkpoint, ucontexts="", args=(), **extra_env):
    env = dict(os.environ, UCX_LIB=lib, UCX_CHECKPOINT=checkpoint,
               UCX_UCONTEXTS=ucontexts, **extra_env)
    env.pop("LD_PRELOAD", None)
    out = subprocess.run(
        ["gdb", "-nx", "-batch", "-x", os.path.join(HERE, "gdb_driver.py"),
         "--args", prog] + list(args), env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=60, universal_newlines=True).stdout
    stops = [json.loads(line[len("UCX-JSON "):])
             for line in out.splitlines() if line.startswith("UCX-JSON ")]
    errors = [s["error"] for s in stops if s["stop"] == "error"]
    assert not errors, errors
    assert stops and stops[-1]["stop"] == "exited", out
    return stops, out


def by_name(stop):
    return {e["name"]: e for e in stop["entries"]}


def checkpoint(stops, phase):
    found = [s for s in stops if s["stop"] == "checkpoint"
             and s["phase"] == phase]
    assert len(found) == 1, [s.get("phase") for s in stops]
    return found[0]


def frames(entry):
    return [f["function"] for f in entry["frames"]]


# ---- static facts -------------------------------------------------------

def test_exports_only_interposed_functions_and_table(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib],
                         stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    names = sorted(line.split()[-1] for line in out.splitlines())
    # the table for debuggers; the totals and the current coroutine for a
    # preloaded libcorodbg-agent (docs/agent.md)
    assert names == ["co_create", "co_delete", "corodbg_current",
                     "corodbg_event_hook", "corodbg_table", "corodbg_totals",
                     "getcontext", "makecontext", "setcontext",
                     "swapcontext"]


def test_debian_libpcl_switches_with_ucontext():
    # If Debian rebuilt libpcl on setjmp/sigaltstack, the interposer would
    # need other entry points: this is the fact the design rests on.
    out = subprocess.run(["nm", "-D", "--undefined-only", LIBPCL],
                         stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    used = {line.split()[-1].split("@")[0] for line in out.splitlines()}
    assert {"getcontext", "makecontext", "swapcontext"} <= used
    assert not {"setjmp", "_setjmp", "sigsetjmp", "sigaltstack"} & used


def test_program_output_unchanged_under_preload(lib, build):
    prog = program(build, "pcl_demo")
    plain = subprocess.run([prog], stdout=subprocess.PIPE, check=True,
                           universal_newlines=True).stdout
    env = dict(os.environ, LD_PRELOAD=lib)
    pre = subprocess.run([prog], stdout=subprocess.PIPE, check=True, env=env,
                         universal_newlines=True).stdout
    assert plain == pre == "pcl_demo: quick_ran=1 got=0,10\n"


# ---- libpcl under gdb ---------------------------------------------------

@pytest.fixture(scope="module")
def pcl(lib, build):
    return drive(lib, program(build, "pcl_demo"), "pcl_checkpoint")


def test_pcl_table_while_a_coroutine_runs(pcl):
    stops, out = pcl
    assert "pcl_demo: quick_ran=1 got=0,10" in out
    cp = checkpoint(stops, 1)
    assert cp["desc"]["runtime_name"] == "ucontext"
    assert cp["desc"]["live_count"] == 4
    cos = by_name(cp)
    assert sorted(cos) == sorted([PCL_HELPER, "pcl:consumer", "pcl:idle",
                                  "pcl:producer"])
    assert {n: (e["state"], e["switches"]) for n, e in cos.items()} == {
        "pcl:producer": ("runnable", 2), "pcl:consumer": ("running", 3),
        "pcl:idle": ("runnable", 0), PCL_HELPER: ("runnable", 1)}
    assert cos["pcl:consumer"]["tid"] == cp["thread_tid"]
    assert cos["pcl:producer"]["last_tid"] == cp["thread_tid"]
    assert cos["pcl:producer"]["tid"] == 0
    # ids in creation order; quick (1) already gone
    assert [cos[n]["id"] for n in ("pcl:producer", "pcl:consumer",
                                   "pcl:idle", PCL_HELPER)] == [2, 3, 4, 5]


def test_pcl_entry_functions_and_creation_sites(pcl):
    cos = by_name(checkpoint(pcl[0], 1))
    for fn in ("producer", "consumer", "idle"):
        e = cos["pcl:" + fn]
        assert e["entry_sym"] == fn
        assert e["create_sym"].startswith("main + ")
        assert e["create_line"] == source_line(
            "pcl_demo.c", "co_create(%s," % fn)
        assert e["stack_lo"] < e["stack_hi"]
        assert e["stack_hi"] - e["stack_lo"] >= 60 * 1024
    # libpcl's own delete helper, created inside co_exit_to
    assert cos[PCL_HELPER]["create_sym"].startswith("co_exit_to + ")


def test_pcl_parked_register_blocks_unwind_to_the_caller(pcl):
    stops, _ = pcl
    prod = by_name(checkpoint(stops, 1))["pcl:producer"]
    assert prod["pc_sym"].startswith("co_call + ")
    assert prod["stack_lo"] <= prod["regs"][1] < prod["stack_hi"]
    # (libpcl is built without frame pointers: rbp is just callee-saved)
    assert frames(prod)[:3] == ["co_call", "co_resume", "producer"]
    assert frames(prod)[-1] == "uc_exit_trampoline"  # unwinding stops

    cons = by_name(checkpoint(stops, 2))["pcl:consumer"]
    assert cons["state"] == "runnable"
    assert frames(cons)[:3] == ["co_call", "co_resume", "consumer"]
    assert frames(by_name(checkpoint(stops, 2))["pcl:producer"])[:3] == \
        ["co_call", "co_resume", "producer"]


def test_pcl_never_run_coroutine_starts_in_the_trampoline(pcl):
    idle = by_name(checkpoint(pcl[0], 2))["pcl:idle"]
    assert idle["switches"] == 0
    # pc = libpcl's start routine (static co_runner), sp = top of stack
    assert idle["pc_sym"] == ""
    assert 0 < idle["stack_hi"] - idle["regs"][1] <= 64
    assert len(frames(idle)) == 2
    assert frames(idle)[1] == "uc_exit_trampoline"


def test_pcl_dead_coroutines_seen_through_the_filter(pcl):
    stops, _ = pcl
    events = [s for s in stops if s["stop"] == "event"]
    seen = []
    for ev in events:
        d = ev["desc"]
        assert d["event_new_state"] == 4 and d["event_kind"] == 1
        e = [x for x in ev["entries"] if x["id"] == d["event_id"]]
        assert len(e) == 1 and e[0]["state"] == "dead"
        seen.append((e[0]["name"], d["event_old_state"]))
    # quick returned -> co_exit -> libpcl's helper co_delete()s it;
    # the rest are co_delete()d by main.
    assert seen == [("pcl:quick", 1), ("pcl:producer", 1),
                    ("pcl:consumer", 1), ("pcl:idle", 1)]
    assert events[-1]["desc"]["hook_calls"] == 4
    cp3 = checkpoint(stops, 3)
    assert cp3["desc"]["live_count"] == 1
    assert sorted(by_name(cp3)) == [PCL_HELPER]


# ---- raw glibc ucontext under gdb --------------------------------------

@pytest.fixture(scope="module")
def uc(lib, build):
    return drive(lib, program(build, "uc_demo"), "uc_checkpoint",
                 "gen_ctx,fin_ctx,jump_ctx")


def test_uc_register_block_equals_saved_ucontext(uc):
    cp = checkpoint(uc[0], 1)
    gen = by_name(cp)["uc:generator"]
    # glibc's swapcontext saved REG_RIP = return address into gen_yield and
    # REG_RSP = the rsp after that return: the block holds the same values
    assert dict(zip(REGS, gen["regs"])) == dict(
        zip(REGS, cp["ucontexts"]["gen_ctx"]))
    assert gen["pc_sym"].startswith("gen_yield + ")
    assert frames(gen) == ["gen_yield", "generator", "uc_exit_trampoline"]


def test_uc_never_run_and_setcontext(uc):
    cp = checkpoint(uc[0], 1)
    cos = by_name(cp)
    assert sorted(cos) == ["uc:finisher", "uc:generator", "uc:jumper"]
    fin = cos["uc:finisher"]
    assert (fin["state"], fin["switches"]) == ("runnable", 0)
    want = dict(zip(REGS, cp["ucontexts"]["fin_ctx"]))
    assert (fin["regs"][0], fin["regs"][1], fin["regs"][3]) == \
        (want["rip"], want["rsp"], want["rbx"])
    assert fin["pc_sym"] == "finisher"
    assert frames(fin) == ["finisher", "uc_exit_trampoline"]
    # jumper left through setcontext(&main_ctx): parked, never saved
    jump = cos["uc:jumper"]
    assert (jump["state"], jump["switches"], jump["tid"]) == \
        ("runnable", 1, 0)
    assert jump["create_line"] == source_line("uc_demo.c",
                                              "makecontext(&jump_ctx")
    assert cos["uc:generator"]["create_line"] == source_line(
        "uc_demo.c", "makecontext(&gen_ctx")


def test_uc_return_through_uc_link_and_overwritten_context(uc):
    stops, out = uc
    assert "uc_demo: value=29 fin_done=1 jumped=1" in out  # 7 args passed
    dead = []
    for ev in (s for s in stops if s["stop"] == "event"):
        e = [x for x in ev["entries"] if x["id"] == ev["desc"]["event_id"]]
        dead.append((e[0]["name"], e[0]["state"],
                     ev["desc"]["event_old_state"]))
    # finisher died running (returned); generator died parked (overwritten)
    assert dead == [("uc:finisher", "dead", 2), ("uc:generator", "dead", 1)]
    cp2, cp3 = checkpoint(stops, 2), checkpoint(stops, 3)
    assert sorted(by_name(cp2)) == ["uc:generator", "uc:jumper"]
    assert sorted(by_name(cp3)) == ["uc:jumper"]
    assert cp3["desc"]["live_count"] == 1


def test_uc_each_thread_has_its_own_current_and_coroutines_migrate(uc):
    stops, _ = uc
    cp3, cp4, cp5 = (checkpoint(stops, n) for n in (3, 4, 5))
    main_tid, t_tid = cp3["thread_tid"], cp4["thread_tid"]
    assert main_tid != t_tid
    tw = by_name(cp4)["uc:tworker"]
    assert (tw["state"], tw["tid"], tw["last_tid"], tw["switches"]) == \
        ("running", t_tid, t_tid, 1)
    assert tw["create_line"] == source_line("uc_demo.c",
                                            "makecontext(&tw_ctx")
    # the other thread's main context is not a coroutine: jumper untouched
    assert by_name(cp4)["uc:jumper"]["state"] == "runnable"
    tw = by_name(cp5)["uc:tworker"]
    assert (tw["state"], tw["tid"], tw["last_tid"], tw["switches"]) == \
        ("running", main_tid, main_tid, 2)
    # its block was saved on the other thread, in its swapcontext call
    assert tw["pc_sym"].startswith("tworker + ")
    assert cp5["desc"]["live_count"] == 2


def test_static_libpcl_seen_by_the_generic_layer_alone(lib, build):
    # libpcl.a inside the executable: co_create/co_delete are not
    # interposable, so names come from makecontext's function (libpcl's
    # static co_runner) and co_exit/co_delete go unseen.
    stops, out = drive(lib, program(build, "pcl_demo_static"),
                       "pcl_checkpoint")
    assert "pcl_demo: quick_ran=1 got=0,10" in out
    cp2 = checkpoint(stops, 2)
    es = sorted(cp2["entries"], key=lambda e: e["id"])
    assert [e["id"] for e in es] == [1, 2, 3, 4, 5]
    assert all(re.fullmatch(r"uc:pcl_demo_static\+0x[0-9a-f]+", e["name"])
               for e in es)
    assert {e["entry_sym"] for e in es} == {"co_runner"}
    assert [e["state"] for e in es] == ["runnable"] * 5
    assert frames(es[1])[:3] == ["co_call", "co_resume", "producer"]
    assert frames(es[2])[:3] == ["co_call", "co_resume", "consumer"]
    assert frames(es[3]) == ["co_runner", "uc_exit_trampoline"]
    assert frames(es[4])[:2] == ["co_call", "co_del_helper"]
    # The limitation, visible: quick exited but stays listed, parked in
    # co_exit; co_delete'd coroutines stay too (no DEAD events at all).
    assert frames(es[0])[:3] == ["co_call", "co_exit_to", "co_exit"]
    assert checkpoint(stops, 3)["desc"]["live_count"] == 5
    assert not [s for s in stops if s["stop"] == "event"]


def crash_event(lib, build, mode, name):
    """Run `uc_demo MODE` in crash mode under gdb, with the crash event
    armed; return (entry NAME at the one event, the descriptor, output)."""
    stops, out = drive(lib, program(build, "uc_demo"), "uc_checkpoint",
                       args=[mode], CORODBG_UC_CRASH="1",
                       UCX_FILTER_FLAGS="4")
    events = [s for s in stops if s["stop"] == "event"]
    assert len(events) == 1, out
    return by_name(events[0])[name], events[0]["desc"], out


def test_crash_in_a_coroutine_is_recorded_when_opted_in(lib, build):
    e, d, out = crash_event(lib, build, "crash", "uc:crasher")
    assert (d["event_kind"], d["event_new_state"]) == (3, 6)  # CRASH, CRASHED
    assert e["id"] == d["event_id"] and e["state"] == "crashed"
    assert (e["signal"], e["fault_addr"]) == (11, 0x10)
    assert "exited with code" in out or "terminated with signal SIGSEGV" in out


def test_stack_overflow_in_a_coroutine_is_recorded_when_opted_in(lib, build):
    # The coroutine faults in its guard page with no stack left: only an
    # alternate signal stack, which crash mode gives each thread, lets the
    # crash handler run and record it.
    e, d, out = crash_event(lib, build, "overflow", "uc:overflow_entry")
    assert e["id"] == d["event_id"]
    assert e["state"] == "crashed" and e["signal"] == 11
    lo = e["stack_lo"]
    assert lo - 4096 <= e["fault_addr"] < lo, (hex(e["fault_addr"]), hex(lo))
    assert "terminated with signal SIGSEGV" in out


@pytest.mark.parametrize("name, args, expected", [
    ("pcl_demo", [], "pcl_demo: quick_ran=1 got=0,10\n"),
    ("uc_demo", [], "uc_demo: value=29 fin_done=1 jumped=1\n"),
])
def test_under_asan_and_ubsan(build, name, args, expected):
    san = build / "interpose" / "libcorodbg-ucontext-san.so"
    assert san.exists(), "build it first: make test"
    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                          stdout=subprocess.PIPE, check=True,
                          universal_newlines=True).stdout.strip()
    env = dict(os.environ, LD_PRELOAD="%s %s" % (asan, san),
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
               ASAN_OPTIONS="detect_leaks=1")
    r = subprocess.run([program(build, name)] + args, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert "ERROR: AddressSanitizer" not in r.stderr, r.stderr
    assert "runtime error" not in r.stderr, r.stderr
    assert (r.returncode, r.stdout) == (0, expected), r.stderr


def test_gdb_names_a_never_run_coroutine_by_its_start(lib, build):
    """A coroutine that never ran sits at its start function's first
    instruction.  GDB names a caller frame by pc - 1: without help it
    shows the function laid out before it (frame_dummy for finisher, the
    last line of crasher for jumper).  `coroutine N` and its bt name the
    start function, as `info coroutines` does."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    out = subprocess.run(
        ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
         "-ex", "source %s/gdb/corodbg-gdb.py" % root,
         "-ex", "set environment LD_PRELOAD=%s" % lib,
         "-ex", "break uc_checkpoint", "-ex", "run",
         "-ex", "coroutine 2", "-ex", "bt", "-ex", "coroutine 3", "-ex", "bt",
         program(build, "uc_demo")],
        capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL).stdout
    assert "Traceback" not in out and "frame_dummy" not in out, out
    assert "crasher" not in out, out
    fin = source_line("uc_demo.c", "fin_done = 1;")     # "uc_demo.c:N"
    assert len(re.findall(r"^#1  0x[0-9a-f]+ in finisher \(\) at \S*%s$"
                          % re.escape(fin), out, re.M)) == 2, out
    assert len(re.findall(r"^#1  0x[0-9a-f]+ in jumper \(\) at \S*uc_demo"
                          r"\.c:\d+$", out, re.M)) == 2, out
