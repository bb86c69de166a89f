/*
 * corodbg_agent.h -- the opt-in in-process endpoint (libcorodbg-agent).
 *
 * For production hosts where no debugger may attach (no CAP_SYS_PTRACE,
 * Yama 2/3, a seccomp profile without process_vm_readv): the program
 * itself serves its coroutine dumps, CPU profiles, leak report and
 * Prometheus metrics over HTTP/1.1 on a Unix socket only its owner can
 * reach.  Paths mirror Go's net/http/pprof:
 *
 *   /debug/pprof/                    index
 *   /debug/pprof/goroutine?debug=N   0: pprof, 1: grouped text, 2: every
 *                                    coroutine with its stack
 *   /debug/pprof/profile?seconds=N   CPU profile, samples labelled by
 *                                    coroutine (pprof)
 *   /debug/pprof/leaks?min_age=S     `coroutine leaks`
 *   /metrics                         Prometheus text format
 *
 *   curl --unix-socket $XDG_RUNTIME_DIR/corodbg/1234.sock \
 *        http://x/debug/pprof/goroutine?debug=1
 *   corodbg fetch 1234 /metrics
 *
 * Start it either way (both take the same SPEC):
 *   - corodbg_agent_start(spec) from the program, or
 *   - CORODBG_AGENT=spec in the environment of a program linked with
 *     libcorodbg-agent (or with it in LD_PRELOAD).
 *
 * SPEC is a comma-separated list; its first item may be a place:
 *   "" or "1"           $XDG_RUNTIME_DIR/corodbg/PID.sock (without
 *                       XDG_RUNTIME_DIR: /tmp/corodbg-UID/PID.sock)
 *   DIR/                DIR/PID.sock (DIR is created 0700 if missing)
 *   PATH.sock           exactly PATH (its directory must exist)
 * then options:
 *   gid=N               also admit clients whose gid is N (directory
 *                       0710 and socket 0660, group N)
 *   tcp=127.0.0.1:PORT  also listen on loopback TCP; needs token_file
 *   token_file=FILE     a 0600 file of ours holding the bearer token TCP
 *                       clients must send (Authorization: Bearer ...)
 *   symbolize=0         leave function names to `corosym` offline
 *
 * Security: the directory must be ours and not group/world writable
 * (0700); the socket is 0600; a symlink or a file not ours at the socket
 * path refuses the start; every connection's SO_PEERCRED must be our
 * euid, root or the allowed gid.  No abstract sockets.  The agent is one
 * thread that sleeps in poll() while idle: nothing is added to the
 * coroutine switch path.  After fork() the child runs its own agent on
 * its own socket (PID.sock; an explicit PATH.sock gets ".PID" appended);
 * the descriptors are close-on-exec.
 */
#ifndef CORODBG_AGENT_H
#define CORODBG_AGENT_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden; these are its API. */
#pragma GCC visibility push(default)

/* Start the agent (see SPEC above; NULL = ""): 0, or -1 and
 * corodbg_agent_error() says why in one line.  Starting twice fails. */
int corodbg_agent_start(const char *spec);
/* Stop it, close and remove its socket.  Safe when not running. */
void corodbg_agent_stop(void);
/* The socket's path while running, else NULL. */
const char *corodbg_agent_path(void);
/* Why the last start failed. */
const char *corodbg_agent_error(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
