/*
 * write_json.c -- `dump --format json`: one object with the modules, the
 * coroutines (fields, age, frames) and the warnings; see docs/capture.md.
 */
#include <stdio.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"
#include "cc_int.h"
#include "write_int.h"

static void jstr(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    /* UTF-8 passes through (an escaped name is UTF-8); a byte that is
     * not is U+FFFD, as the core's decoder reads it */
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), len;
    fputc('"', out);
    while (n) {
        uint32_t c = cc_utf8_next(p, n, &len);
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", (int)c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", (unsigned)c);
        else if (c == 0xfffd && !(len == 3 && p[0] == 0xef))
            fputs("\\ufffd", out);
        else
            fwrite(p, 1, len, out);
        p += len;
        n -= len;
    }
    fputc('"', out);
}

static void jframes(FILE *out, const cc_stack *s)
{
    fputc('[', out);
    for (size_t k = 0; k < s->n; k++) {
        const cc_frame *f = &s->f[k];
        fprintf(out, "%s{\"pc\": %llu, \"module\": ", k ? ", " : "",
                (unsigned long long)f->pc);
        jstr(out, f->mod ? f->mod->path : NULL);
        fprintf(out, ", \"vaddr\": %llu, \"function\": ",
                (unsigned long long)(f->mod ? f->lookup - f->mod->bias : 0));
        jstr(out, f->function);
        fprintf(out, ", \"file\": ");
        jstr(out, f->file);
        fprintf(out, ", \"line\": %u, \"inlined\": %s, \"tailcall\": %s}",
                f->line, f->inlined ? "true" : "false",
                f->tailcall ? "true" : "false");
    }
    fputc(']', out);
}

int cc_write_json(FILE *out, const cc_capture *c)
{
    const cc_table *t = c->table;
    const cc_target *tg = c->target;
    char hex[129];
    fprintf(out, "{\"pid\": %d, \"core\": ", (int)tg->pid);
    jstr(out, tg->is_core ? tg->core_path : NULL);
    fprintf(out, ", \"now_ns\": %llu, \"runtime\": ",
            (unsigned long long)c->now_ns);
    jstr(out, t->runtime_name);
    fprintf(out, ", \"threads_stopped\": %zu, \"max_stall_ns\": %llu, "
            "\"partial\": %s", c->stopped, (unsigned long long)c->max_stall_ns,
            c->partial ? "true" : "false");
    fprintf(out, ",\n \"modules\": [");
    int first = 1;
    for (size_t i = 0; i < tg->nmods; i++) {
        const cc_module *m = &tg->mods[i];
        if (!m->is_exec)
            continue;
        cc_hex(m->build_id, m->build_id_len, hex);
        fprintf(out, "%s\n  {\"path\": ", first ? "" : ",");
        jstr(out, m->path);
        fprintf(out, ", \"start\": %llu, \"end\": %llu, \"bias\": %llu, "
                "\"build_id\": ", (unsigned long long)m->start,
                (unsigned long long)m->end, (unsigned long long)m->bias);
        jstr(out, m->build_id_len ? hex : NULL);
        fputc('}', out);
        first = 0;
    }
    fprintf(out, "],\n \"coroutines\": [");
    for (size_t i = 0; i < t->ncos; i++) {
        const cc_coroutine *co = &t->cos[i];
        int64_t age = cc_age_ns(co, c->now_ns);
        fprintf(out, "%s\n  {\"id\": %llu, \"name\": ", i ? "," : "",
                (unsigned long long)co->id);
        jstr(out, co->has & CC_HAS_NAME ? co->name : NULL);
        fprintf(out, ", \"state\": ");
        jstr(out, cc_state_name(co->state));
        fprintf(out, ", \"wait\": ");
        jstr(out, cc_wait_name(co));
        fprintf(out, ", \"age_ns\": ");
        if (age >= 0)
            fprintf(out, "%lld", (long long)age);
        else
            fputs("null", out);
        fprintf(out, ", \"tid\": %u, \"parent_id\": %llu, \"create_pc\": %llu, "
                "\"unreadable\": ", co->tid, (unsigned long long)co->parent_id,
                (unsigned long long)co->create_pc);
        jstr(out, co->unreadable ? cc_unreadable_name(co->unreadable) : NULL);
        fprintf(out, ", \"note\": ");
        jstr(out, co->unreadable ? co->note : NULL);
        fprintf(out, ", \"stack_error\": ");
        jstr(out, c->stacks[i].error);
        fprintf(out, ",\n   \"frames\": ");
        jframes(out, &c->stacks[i]);
        fputc('}', out);
    }
    fprintf(out, "],\n \"threads\": [");
    for (size_t k = 0; k < c->nthreads; k++) {
        const cc_os_thread *th = &c->threads[k];
        fprintf(out, "%s\n  {\"tid\": %d, \"name\": ", k ? "," : "",
                (int)th->tid);
        jstr(out, th->name[0] ? th->name : NULL);
        if (th->co != SIZE_MAX)
            fprintf(out, ", \"coroutine\": %llu",
                    (unsigned long long)t->cos[th->co].id);
        else
            fprintf(out, ", \"coroutine\": null");
        fprintf(out, ", \"stack_error\": ");
        jstr(out, th->co != SIZE_MAX ? NULL : !c->target->is_core ?
             "a thread running no coroutine is never stopped" :
             th->stack.error);
        fprintf(out, ",\n   \"frames\": ");
        jframes(out, &th->stack);
        fputc('}', out);
    }
    fprintf(out, "],\n \"warnings\": [");
    for (size_t i = 0; i < t->nwarnings; i++) {
        fprintf(out, "%s", i ? ", " : "");
        jstr(out, t->warnings[i]);
    }
    fprintf(out, "],\n \"notes\": [");
    for (size_t i = 0; i < c->nnotes; i++) {
        fprintf(out, "%s", i ? ", " : "");
        jstr(out, c->notes[i]);
    }
    fprintf(out, "]}\n");
    return ferror(out) ? -1 : 0;
}
