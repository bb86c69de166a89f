/*
 * write_text.c -- `dump --format text`: Go's goroutine debug=2 layout,
 * one block per coroutine:
 *
 *   coroutine 7 "conn-7" [blocked, chan receive, 1m23s]:
 *   wait_request()
 *   	/src/examples/server.c:42
 *   created by acceptor in coroutine 1
 *   	/src/examples/server.c:90
 *
 * then one block per OS thread that runs no coroutine (its stack from a
 * core; a live one is never stopped).  A frame without symbols prints
 * `?? ()` and `module+0xVADDR`; the modules' build-ids close the dump,
 * for corosym on another machine.
 */
#include <stdio.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"
#include "write_int.h"

void cc_write_frame_lines(FILE *out, const cc_frame *f)
{
    if (f->function)
        fprintf(out, "%s()%s\n", f->function, f->inlined ? " (inlined)" : "");
    else
        fprintf(out, "?\?()\n");
    if (f->file && f->line)
        fprintf(out, "\t%s:%u\n", f->file, f->line);
    else if (f->mod)
        fprintf(out, "\t%s+0x%llx\n", f->mod->path,
                (unsigned long long)(f->pc - f->mod->bias));
    else
        fprintf(out, "\t0x%llx\n", (unsigned long long)f->pc);
}

void cc_write_header(FILE *out, const cc_capture *c, const cc_coroutine *co)
{
    char age[32] = "";
    int64_t a = cc_age_ns(co, c->now_ns);
    const char *w = cc_wait_name(co);
    fprintf(out, "coroutine %llu", (unsigned long long)co->id);
    if (co->has & CC_HAS_NAME)
        fprintf(out, " \"%s\"", co->name);
    fprintf(out, " [%s", cc_state_name(co->state));
    if (*w)
        fprintf(out, ", %s", w);
    if (cc_on_thread(co))
        fprintf(out, ", thread %u", co->tid);
    else if (a >= 0) {
        cc_format_age((uint64_t)a, age, sizeof age);
        fprintf(out, ", %s", age);
    }
    fprintf(out, "]:");
    if (co->unreadable)
        fprintf(out, " (? %s: %s)", cc_unreadable_name(co->unreadable),
                co->note);
    fputc('\n', out);
}

void cc_write_trailer(FILE *out, const cc_capture *c, const char *prefix)
{
    const cc_table *t = c->table;
    for (size_t i = 0; i < t->nwarnings; i++)
        fprintf(out, "%swarning: %s\n", prefix, t->warnings[i]);
    for (size_t i = 0; i < c->nnotes; i++)
        fprintf(out, "%snote: %s\n", prefix, c->notes[i]);
}

void cc_write_modules(FILE *out, const cc_capture *c, const char *prefix)
{
    const cc_target *t = c->target;
    fprintf(out, "%smodules:\n", prefix);
    for (size_t i = 0; i < t->nmods; i++) {
        const cc_module *m = &t->mods[i];
        if (!m->is_exec)
            continue;
        char hex[129];
        cc_hex(m->build_id, m->build_id_len, hex);
        fprintf(out, "%s  %s 0x%llx-0x%llx build-id %s\n", prefix, m->path,
                (unsigned long long)m->start, (unsigned long long)m->end,
                m->build_id_len ? hex : "none");
    }
}

void cc_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

int cc_write_text(FILE *out, const cc_capture *c)
{
    const cc_table *t = c->table;
    cc_symbolizer *sym = c->sym;
    for (size_t i = 0; i < t->ncos; i++) {
        const cc_coroutine *co = &t->cos[i];
        const cc_stack *s = &c->stacks[i];
        cc_write_header(out, c, co);
        for (size_t k = 0; k < s->n; k++)
            cc_write_frame_lines(out, &s->f[k]);
        if (!s->n && c->nraw[i] == 0)
            fprintf(out, "\t(no stack%s%s)\n", s->error ? ": " : "",
                    s->error ? s->error : "");
        if ((co->has & CC_HAS_CREATE_PC) && co->create_pc && sym) {
            cc_frame f;
            cc_symbolize_pc(sym, co->create_pc, 1, &f);
            fprintf(out, "created by %s", f.function ? f.function : "??");
            if ((co->has & CC_HAS_PARENT) && co->parent_id)
                fprintf(out, " in coroutine %llu",
                        (unsigned long long)co->parent_id);
            fputc('\n', out);
            if (f.file && f.line)
                fprintf(out, "\t%s:%u\n", f.file, f.line);
            else if (f.mod)
                fprintf(out, "\t%s+0x%llx\n", f.mod->path,
                        (unsigned long long)(f.pc - f.mod->bias));
        }
        fputc('\n', out);
    }
    /* the threads running none, as `thread apply all bt` lists them */
    for (size_t k = 0; k < c->nthreads; k++) {
        const cc_os_thread *th = &c->threads[k];
        if (th->co != SIZE_MAX)
            continue;
        fprintf(out, "thread %d", (int)th->tid);
        if (th->name[0])
            fprintf(out, " \"%s\"", th->name);
        fprintf(out, " [no coroutine]:\n");
        for (size_t i = 0; i < th->stack.n; i++)
            cc_write_frame_lines(out, &th->stack.f[i]);
        if (!th->stack.n)
            fprintf(out, "\t(no stack: %s)\n", c->target->is_core ?
                    (th->stack.error ? th->stack.error : "none unwound") :
                    "a thread running no coroutine is never stopped");
        fputc('\n', out);
    }
    fprintf(out, "%zu coroutine%s\n", t->ncos, t->ncos == 1 ? "" : "s");
    if (c->nthreads)
        fprintf(out, "%zu thread%s, %zu running no coroutine\n", c->nthreads,
                c->nthreads == 1 ? "" : "s", cc_threads_without_coroutine(c));
    cc_write_modules(out, c, "");
    cc_write_trailer(out, c, "");
    return ferror(out) ? -1 : 0;
}
