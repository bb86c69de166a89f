/*
 * target_pid.c -- a live process: its modules from /proc/PID/maps, its
 * memory through process_vm_readv (reader_pid.c), or our own process for
 * the in-process endpoint (reader_self.c).  Nothing here stops it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corocap.h"
#include "target_int.h"

/* The file behind a mapping, through the process's own root (a
 * container's files have other paths outside it). */
static const char *pid_file(const cc_target *t, const cc_module *m)
{
    static __thread char buf[4200];
    snprintf(buf, sizeof buf, "/proc/%d/root%s", (int)t->pid, m->path);
    FILE *f = fopen(buf, "rb");
    if (f) {
        fclose(f);
        return buf;
    }
    return m->path;
}

/* PID's modules and table, its memory through READER (owned, may be NULL:
 * ERR already says why). */
static cc_target *open_live(pid_t pid, cc_reader *reader, char *err)
{
    cc_target *t = calloc(1, sizeof *t);
    if (!t) {
        cc_reader_free(reader);
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    t->pid = pid;
    t->reader = reader;
    if (!t->reader)
        goto fail;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT || errno == ESRCH)
            snprintf(err, CC_ERRLEN, "no process %d", (int)pid);
        else
            cc_explain_read_error(pid, errno, err);
        goto fail;
    }
    char line[4400];
    while (fgets(line, sizeof line, f)) {
        uint64_t start, end, off;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n",
                   &start, &end, perms, &off, &name_at) < 4 || !name_at)
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = 0;
        if (name[0] != '/')
            continue;          /* anonymous, [stack], [vdso]... */
        char *del = strstr(name, " (deleted)");
        if (del)
            *del = 0;
        if (!cc_target_add_mapping(t, name, start, end, off, perms[2] == 'x'))
            break;
    }
    fclose(f);
    if (!t->nmods) {
        /* maps is readable only with the same rights as the memory */
        snprintf(err, CC_ERRLEN, "no mappings visible for process %d",
                 (int)pid);
        cc_explain_read_error(pid, EPERM, err);
        goto fail;
    }
    cc_target_finish_modules(t, pid_file);
    return t;
fail:
    cc_target_free(t);
    return NULL;
}

cc_target *cc_target_open_pid(pid_t pid, char *err)
{
    return open_live(pid, cc_reader_pid(pid, err), err);
}

cc_target *cc_target_open_self(char *err)
{
    return open_live(getpid(), cc_reader_self(err), err);
}
