/*
 * format.c -- ages and locations as the debuggers print them
 * (python/corodbg/core/render.py format_age and format_location), so the
 * capture's leak report reads like `coroutine leaks`.
 */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "corocap.h"

void cc_format_age(uint64_t ns, char *buf, size_t len)
{
    if (ns < 1000000u) {
        snprintf(buf, len, "%s", ns > 0 ? "<1ms" : "0s");
        return;
    }
    if (ns < 1000000000u) {
        snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000u));
        return;
    }
    unsigned long long s = ns / 1000000000u;
    if (s < 60)
        snprintf(buf, len, "%.1fs", ns / 1e9);
    else if (s < 3600)
        snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lluh%02llum", s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, len, "%llud%02lluh", s / 86400, (s % 86400) / 3600);
}

int64_t cc_age_ns(const cc_coroutine *co, uint64_t now_ns)
{
    if (!(co->has & CC_HAS_SINCE) || !co->since_ns || !now_ns)
        return -1;
    return now_ns > co->since_ns ? (int64_t)(now_ns - co->since_ns) : 0;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void cc_format_frame(const cc_frame *f, char *buf, size_t len)
{
    if (!f) {
        snprintf(buf, len, "??");
    } else if (f->function && f->file && f->line) {
        snprintf(buf, len, "%s at %s:%u", f->function, base(f->file), f->line);
    } else if (f->function) {
        snprintf(buf, len, "%s", f->function);
    } else if (!f->pc) {
        snprintf(buf, len, "??");
    } else if (f->mod) {
        snprintf(buf, len, "0x%llx in %s+0x%llx", (unsigned long long)f->pc,
                 base(f->mod->path),
                 (unsigned long long)(f->pc - f->mod->bias));
    } else {
        snprintf(buf, len, "0x%llx", (unsigned long long)f->pc);
    }
}
