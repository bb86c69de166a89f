/* Unit tests for every libcorodbg API function, including misuse:
 * NULL handles, double exit, unknown ids, names that are too long. */
#include "corodbg.h"
#include "check.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack_a[4096];

static const struct corodbg_field *find_field(uint16_t off, uint16_t count,
                                              uint16_t id)
{
    const struct corodbg_field *f =
        (const void *)((const char *)&corodbg_table + off);
    for (uint16_t i = 0; i < count; i++)
        if (f[i].id == id)
            return &f[i];
    return NULL;
}

/* The table is valid before any function is called (static init). */
static void test_static_descriptor(void)
{
    const struct corodbg_descriptor *d = &corodbg_table;
    CHECK(memcmp(d->magic, CORODBG_MAGIC, 8) == 0);
    CHECK_EQ(d->abi_major, CORODBG_ABI_MAJOR);
    CHECK_EQ(d->desc_size, sizeof(struct corodbg_descriptor));
    CHECK_EQ(d->entry_size, sizeof(struct corodbg_entry));
    CHECK_EQ(d->ptr_size, 8);
    CHECK_EQ(d->byte_order, 1);
    CHECK_EQ(d->arch, CORODBG_ARCH_X86_64);
    CHECK_EQ(d->field_record_size, 8);
    CHECK_EQ(d->generation % 2, 0);
    CHECK_EQ(d->live_count, 0);
    CHECK_EQ(d->next_id, 1);
    CHECK(d->chunk_dir != 0);
    CHECK_EQ(d->chunk_entries, 4096);
    CHECK_EQ(d->event_hook, (uint64_t)(uintptr_t)&corodbg_event_hook);
    /* Every record points where the struct says. */
    const struct corodbg_field *f;
    f = find_field(d->desc_fields_off, d->desc_fields_count, CORODBG_DF_GENERATION);
    CHECK(f && f->offset == offsetof(struct corodbg_descriptor, generation) && f->size == 8);
    f = find_field(d->desc_fields_off, d->desc_fields_count, CORODBG_DF_FILTER_NAME);
    CHECK(f && f->offset == offsetof(struct corodbg_descriptor, filter_name) &&
          f->size == CORODBG_FILTER_NAME_MAX && f->kind == CORODBG_KIND_CHARS);
    f = find_field(d->entry_fields_off, d->entry_fields_count, CORODBG_EF_REGS);
    CHECK(f && f->offset == offsetof(struct corodbg_entry, regs) &&
          f->size == 8 * CORODBG_NREGS && f->kind == CORODBG_KIND_U64S);
    f = find_field(d->entry_fields_off, d->entry_fields_count, CORODBG_EF_NAME);
    CHECK(f && f->offset == offsetof(struct corodbg_entry, name));
    /* Records lie inside the descriptor and fields inside their struct. */
    const struct corodbg_field *all =
        (const void *)((const char *)d + d->entry_fields_off);
    for (int i = 0; i < d->entry_fields_count; i++)
        CHECK(all[i].offset + all[i].size <= d->entry_size);
    CHECK_EQ(d->regs_count, 8);
    const uint16_t *regs = (const void *)((const char *)d + d->regs_off);
    CHECK_EQ(regs[0], 16); /* rip */
    CHECK_EQ(regs[1], 7);  /* rsp */
    CHECK_EQ(regs[2], 6);  /* rbp */
}

static void test_null_handles(void)
{
    CHECK_EQ(corodbg_exit(NULL), CORODBG_EINVAL);
    CHECK_EQ(corodbg_block(NULL, CORODBG_WAIT_SLEEP, NULL), CORODBG_EINVAL);
    CHECK_EQ(corodbg_block_at(NULL, CORODBG_WAIT_SLEEP, NULL, NULL),
             CORODBG_EINVAL);
    CHECK_EQ(corodbg_wake(NULL), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_name(NULL, "x"), CORODBG_EINVAL);
    CHECK_EQ(corodbg_id(NULL), 0);
    CHECK(corodbg_regs(NULL) == NULL);
    corodbg_switch(NULL, NULL); /* the scheduler's stack to itself */
    CHECK(corodbg_current() == NULL);
    CHECK(corodbg_lookup(0) == NULL);
    CHECK(corodbg_lookup(123456789) == NULL);
}

static void test_create_fields(void)
{
    size_t live = corodbg_live_count();
    uint64_t first = corodbg_table.next_id;
    corodbg_co *a = corodbg_create("alpha", (void *)test_create_fields,
                                   stack_a, sizeof stack_a, (void *)0x1234);
    CHECK(a != NULL);
    CHECK_EQ(corodbg_id(a), first);
    CHECK_EQ(a->state, CORODBG_RUNNABLE);
    CHECK(strcmp(a->name, "alpha") == 0);
    CHECK_EQ(a->entry_fn, (uintptr_t)test_create_fields);
    CHECK_EQ(a->create_pc, 0x1234);
    CHECK_EQ(a->stack_lo, (uintptr_t)stack_a);
    CHECK_EQ(a->stack_hi, (uintptr_t)stack_a + sizeof stack_a);
    CHECK(a->created_ns > 0 && a->since_ns == a->created_ns);
    CHECK_EQ(a->parent_id, 0);
    CHECK_EQ(a->seq % 2, 0);
    CHECK_EQ(corodbg_table.generation % 2, 0);
    CHECK_EQ(corodbg_live_count(), live + 1);
    CHECK(corodbg_lookup(first) == a);
    CHECK(corodbg_regs(a) == a->regs);

    corodbg_co *b = corodbg_create(NULL, NULL, NULL, 0, NULL);
    CHECK(b != NULL && b != a);
    CHECK_EQ(corodbg_id(b), first + 1);
    CHECK_EQ(b->name[0], 0);

    /* A child created while A runs records A as its parent. */
    corodbg_switch(NULL, a);
    corodbg_co *c = corodbg_create("child", NULL, NULL, 0, NULL);
    CHECK_EQ(c->parent_id, a->id);
    corodbg_switch(a, NULL);

    CHECK_EQ(corodbg_exit(a), CORODBG_OK);
    CHECK_EQ(corodbg_exit(b), CORODBG_OK);
    CHECK_EQ(corodbg_exit(c), CORODBG_OK);
    CHECK_EQ(corodbg_live_count(), live);
}

static void test_names(void)
{
    const char *longname = "a-name-that-is-much-longer-than-thirty-one-bytes";
    corodbg_co *a = corodbg_create(longname, NULL, NULL, 0, NULL);
    CHECK_EQ(strlen(a->name), CORODBG_NAME_MAX - 1);
    CHECK(strncmp(a->name, longname, CORODBG_NAME_MAX - 1) == 0);
    CHECK_EQ(corodbg_set_name(a, "short"), CORODBG_OK);
    CHECK(strcmp(a->name, "short") == 0);
    CHECK_EQ(corodbg_set_name(a, longname), CORODBG_ETRUNC);
    CHECK_EQ(a->name[CORODBG_NAME_MAX - 1], 0);
    CHECK_EQ(corodbg_set_name(a, NULL), CORODBG_OK);
    CHECK_EQ(a->name[0], 0);
    corodbg_exit(a);
}

static void test_switch_block_wake(void)
{
    corodbg_co *a = corodbg_create("a", NULL, NULL, 0, NULL);
    corodbg_co *b = corodbg_create("b", NULL, NULL, 0, NULL);
    uint32_t tid = (uint32_t)gettid();

    corodbg_switch(NULL, a);
    CHECK_EQ(a->state, CORODBG_RUNNING);
    CHECK_EQ(a->tid, tid);
    CHECK_EQ(a->last_tid, tid);
    CHECK_EQ(a->switches, 1);
    CHECK(corodbg_current() == a);

    corodbg_switch(a, b);
    CHECK_EQ(a->state, CORODBG_RUNNABLE);
    CHECK_EQ(a->tid, 0);
    CHECK_EQ(a->last_tid, tid);
    CHECK_EQ(b->state, CORODBG_RUNNING);
    CHECK(corodbg_current() == b);

    int chan;
    /* where the blocking call returns: recorded, then cleared by a plain
     * block and by the wake */
    const void *ret = (const void *)(uintptr_t)0x401234;
    CHECK_EQ(corodbg_block_at(b, CORODBG_WAIT_IO, &chan, ret), CORODBG_OK);
    CHECK_EQ(b->wait_pc, 0x401234);
    CHECK_EQ(b->wait_reason, CORODBG_WAIT_IO);
    CHECK_EQ(corodbg_wake(b), CORODBG_OK);
    CHECK_EQ(b->wait_pc, 0);
    CHECK_EQ(corodbg_block_at(b, CORODBG_WAIT_IO, &chan, ret), CORODBG_OK);
    CHECK_EQ(corodbg_wake(b), CORODBG_OK);
    CHECK_EQ(corodbg_block(b, CORODBG_WAIT_CHAN_RECV, &chan), CORODBG_OK);
    CHECK_EQ(b->state, CORODBG_BLOCKED);
    CHECK_EQ(b->wait_reason, CORODBG_WAIT_CHAN_RECV);
    CHECK_EQ(b->wait_addr, (uintptr_t)&chan);
    CHECK_EQ(b->wait_pc, 0);
    CHECK_EQ(b->seq % 2, 0);
    corodbg_switch(b, a); /* a blocked coroutine stays blocked */
    CHECK_EQ(b->state, CORODBG_BLOCKED);
    CHECK_EQ(b->tid, 0);
    CHECK_EQ(corodbg_block(b, CORODBG_WAIT_SLEEP, NULL), CORODBG_ESTATE);

    CHECK_EQ(corodbg_wake(a), CORODBG_ESTATE); /* running, not blocked */
    CHECK_EQ(corodbg_wake(b), CORODBG_OK);
    CHECK_EQ(b->state, CORODBG_RUNNABLE);
    CHECK_EQ(b->wait_reason, CORODBG_WAIT_NONE);
    CHECK_EQ(b->wait_addr, 0);
    CHECK(b->since_ns >= b->created_ns);

    /* An out-of-range wait reason is recorded as OTHER. */
    CHECK_EQ(corodbg_block(a, (enum corodbg_wait)999, NULL), CORODBG_OK);
    CHECK_EQ(a->wait_reason, CORODBG_WAIT_OTHER);
    corodbg_switch(a, NULL);
    CHECK(corodbg_current() == NULL);
    CHECK_EQ(a->seq % 2, 0);
    CHECK_EQ(b->seq % 2, 0);
    corodbg_exit(a);
    corodbg_exit(b);
}

/* A switch writes state and tid as one aligned word and leaves the
 * seqlock alone (docs/abi.md, "Consistency"); that holds with a filter
 * armed too, which takes the out-of-line path. */
static void test_switch_state_word(void)
{
    corodbg_co *a = corodbg_create("word", NULL, NULL, 0, NULL);
    CHECK(a != NULL);
    uint64_t calls = corodbg_table.hook_calls;
    CHECK_EQ(offsetof(struct corodbg_entry, state) % 8, 0);
    CHECK_EQ(offsetof(struct corodbg_entry, tid),
             offsetof(struct corodbg_entry, state) + 4);
    for (int armed = 0; armed < 2; armed++) {
        corodbg_table.filter_state_mask =
            armed ? 1u << CORODBG_PANICKED : 0; /* never matches here */
        uint32_t seq = a->seq;
        uint64_t switches = a->switches;
        corodbg_switch(NULL, a);
        uint64_t word;
        memcpy(&word, &a->state, sizeof word);
        CHECK_EQ(word, (uint64_t)CORODBG_RUNNING | (uint64_t)a->tid << 32);
        CHECK(a->tid != 0);
        CHECK_EQ(a->last_tid, a->tid);
        CHECK_EQ(a->switches, switches + 1);
        CHECK_EQ(a->seq, seq);
        corodbg_switch(a, NULL);
        memcpy(&word, &a->state, sizeof word);
        CHECK_EQ(word, (uint64_t)CORODBG_RUNNABLE);
        CHECK_EQ(a->seq, seq);
        CHECK(corodbg_current() == NULL);
    }
    corodbg_table.filter_state_mask = 0;
    CHECK_EQ(corodbg_table.hook_calls, calls);
    corodbg_exit(a);
}

static void test_exit_reuse_and_double_exit(void)
{
    corodbg_co *a = corodbg_create("gone", NULL, NULL, 0, NULL);
    uint64_t id = corodbg_id(a);
    CHECK_EQ(corodbg_exit(a), CORODBG_OK);
    CHECK_EQ(a->state, CORODBG_FREE);
    CHECK_EQ(a->id, 0);
    CHECK(corodbg_lookup(id) == NULL);
    CHECK_EQ(corodbg_exit(a), CORODBG_ESTATE); /* double exit */
    corodbg_co *b = corodbg_create("reused", NULL, NULL, 0, NULL);
    CHECK(b == a);                 /* LIFO reuse of the freed slot */
    CHECK(corodbg_id(b) > id);     /* ids are never reused */
    CHECK_EQ(corodbg_exit(a), CORODBG_OK); /* it is B's handle now */
    CHECK_EQ(corodbg_exit(b), CORODBG_ESTATE);
}

static void arm(uint32_t mask, uint32_t flags, uint64_t id, const char *glob)
{
    corodbg_table.filter_state_mask = mask;
    corodbg_table.filter_id = id;
    memset(corodbg_table.filter_name, 0, sizeof corodbg_table.filter_name);
    if (glob)
        memcpy(corodbg_table.filter_name, glob, strlen(glob));
    corodbg_table.filter_flags = flags;
}

static void test_event_filter(void)
{
    corodbg_co *a = corodbg_create("net-reader", NULL, NULL, 0, NULL);
    corodbg_co *b = corodbg_create("disk-writer", NULL, NULL, 0, NULL);
    uint64_t calls = corodbg_table.hook_calls;

    /* Nothing armed: no calls at all. */
    corodbg_switch(NULL, a);
    corodbg_block(a, CORODBG_WAIT_IO, NULL);
    corodbg_switch(a, NULL);
    corodbg_wake(a);
    CHECK_EQ(corodbg_table.hook_calls, calls);

    /* Armed for BLOCKED only: switches do not call, a block does. */
    arm(1u << CORODBG_BLOCKED, CORODBG_FILTER_ARMED, 0, NULL);
    uint64_t seq = corodbg_table.event_seq;
    corodbg_switch(NULL, a);
    corodbg_switch(a, b);
    CHECK_EQ(corodbg_table.hook_calls, calls);
    corodbg_block(b, CORODBG_WAIT_MUTEX, NULL);
    CHECK_EQ(corodbg_table.hook_calls, calls + 1);
    CHECK_EQ(corodbg_table.event_seq, seq + 1);
    CHECK_EQ(corodbg_table.event_kind, CORODBG_EVENT_STATE);
    CHECK_EQ(corodbg_table.event_id, b->id);
    CHECK_EQ(corodbg_table.event_old_state, CORODBG_RUNNING);
    CHECK_EQ(corodbg_table.event_new_state, CORODBG_BLOCKED);
    corodbg_switch(b, NULL);
    corodbg_wake(b);

    /* Id filter: B blocking does not call and counts as filtered. */
    arm(1u << CORODBG_BLOCKED, CORODBG_FILTER_ARMED, a->id, NULL);
    uint64_t filtered = corodbg_table.filtered;
    corodbg_switch(NULL, b);
    corodbg_block(b, CORODBG_WAIT_MUTEX, NULL);
    corodbg_switch(b, NULL);
    CHECK_EQ(corodbg_table.hook_calls, calls + 1);
    CHECK_EQ(corodbg_table.filtered, filtered + 1);
    corodbg_wake(b);
    corodbg_switch(NULL, a); /* a was runnable since the switch a->b */
    corodbg_block(a, CORODBG_WAIT_MUTEX, NULL);
    corodbg_switch(a, NULL);
    CHECK_EQ(corodbg_table.hook_calls, calls + 2);
    CHECK_EQ(corodbg_table.event_id, a->id);
    corodbg_wake(a);

    /* Name glob filter. */
    arm(1u << CORODBG_RUNNABLE, CORODBG_FILTER_ARMED, 0, "disk-*");
    corodbg_switch(NULL, a);
    corodbg_switch(a, NULL); /* net-reader -> runnable: filtered */
    CHECK_EQ(corodbg_table.hook_calls, calls + 2);
    corodbg_switch(NULL, b);
    corodbg_switch(b, NULL); /* disk-writer -> runnable: fires */
    CHECK_EQ(corodbg_table.hook_calls, calls + 3);
    CHECK_EQ(corodbg_table.event_id, b->id);

    /* An unterminated glob from a buggy debugger is still bounded. */
    arm(1u << CORODBG_RUNNABLE, CORODBG_FILTER_ARMED, 0, NULL);
    memset(corodbg_table.filter_name, '*', sizeof corodbg_table.filter_name);
    corodbg_switch(NULL, a);
    corodbg_switch(a, NULL);
    CHECK_EQ(corodbg_table.hook_calls, calls + 4);

    /* Mask set but not armed: nothing. */
    arm(1u << CORODBG_RUNNABLE, 0, 0, NULL);
    corodbg_switch(NULL, a);
    corodbg_switch(a, NULL);
    CHECK_EQ(corodbg_table.hook_calls, calls + 4);

    /* DEAD is catchable before the slot is freed. */
    arm(1u << CORODBG_DEAD, CORODBG_FILTER_ARMED, 0, NULL);
    uint64_t aid = a->id;
    corodbg_exit(a);
    CHECK_EQ(corodbg_table.hook_calls, calls + 5);
    CHECK_EQ(corodbg_table.event_id, aid);
    CHECK_EQ(corodbg_table.event_new_state, CORODBG_DEAD);
    arm(0, 0, 0, NULL);
    corodbg_exit(b);
}

static void test_panic(void)
{
    CHECK_EQ(corodbg_panic("no coroutine %d", 1), CORODBG_ESTATE);
    corodbg_co *a = corodbg_create("panicker", NULL, NULL, 0, NULL);
    uint64_t calls = corodbg_table.hook_calls;
    arm(0, CORODBG_FILTER_PANIC, 0, NULL);
    corodbg_switch(NULL, a);
    CHECK_EQ(corodbg_panic("request %d failed: %s", 42, "boom"), CORODBG_OK);
    CHECK_EQ(a->state, CORODBG_PANICKED);
    CHECK_EQ(a->panic_len, strlen("request 42 failed: boom"));
    CHECK(strcmp((const char *)(uintptr_t)a->panic_msg, "request 42 failed: boom") == 0);
    CHECK_EQ(corodbg_table.hook_calls, calls + 1);
    CHECK_EQ(corodbg_table.event_kind, CORODBG_EVENT_PANIC);
    CHECK_EQ(corodbg_table.event_id, a->id);
    /* A second, overlong panic replaces the message, bounded. */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    corodbg_panic("%s", big);
    CHECK_EQ(a->panic_len, CORODBG_PANIC_MAX - 1);
    CHECK_EQ(strlen((const char *)(uintptr_t)a->panic_msg), CORODBG_PANIC_MAX - 1);
    corodbg_switch(a, NULL);
    CHECK_EQ(a->state, CORODBG_PANICKED); /* switching away keeps it */
    arm(0, 0, 0, NULL);
    corodbg_exit(a);
}

/* Not static: the report names it through dladdr (linked -rdynamic). */
void test_leak_helpers(void);
void test_leak_helpers(void)
{
    corodbg_mark m = corodbg_leak_mark();
    CHECK_EQ(corodbg_leak_check(m, stderr), 0);
    corodbg_co *c[3];
    int chan;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "leaky-%d", i);
        c[i] = corodbg_create(name, NULL, NULL, 0, (void *)test_leak_helpers);
        corodbg_switch(NULL, c[i]);
        corodbg_block(c[i], CORODBG_WAIT_CHAN_RECV, &chan);
        corodbg_switch(c[i], NULL);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    CHECK_EQ(corodbg_leak_check(m, out), 3);
    fclose(out);
    CHECK(strstr(buf, "\"leaky-0\" blocked [chan receive 0x") != NULL);
    CHECK(strstr(buf, "\"leaky-2\"") != NULL);
    CHECK(strstr(buf, "created at test_leak_helpers+0x0") != NULL);
    free(buf);

    out = open_memstream(&buf, &len);
    CHECK(corodbg_report_blocked(out) >= 3);
    fclose(out);
    CHECK(strstr(buf, "corodbg: blocked coroutines:") != NULL);
    free(buf);

    for (int i = 0; i < 3; i++)
        corodbg_exit(c[i]);
    CHECK_EQ(corodbg_leak_check(m, stderr), 0);
    CORODBG_ASSERT_CONSERVED({
        corodbg_co *t = corodbg_create("temp", NULL, NULL, 0, NULL);
        corodbg_exit(t);
    });
}

/* Register modes BLOCK and FRAME: layouts are validated, published in
 * the descriptor, and an entry pointed at a block or a saved-sp word
 * leaves the table's own block looking empty to ABI 1.0 readers. */
static void test_regs_modes(void)
{
    static const uint16_t dw[CORODBG_NREGS] = CORODBG_REG_DWARF;
    struct corodbg_reg_loc good[3] = {
        {dw[CORODBG_REG_PC], CORODBG_LOC_LOAD, 56},
        {dw[CORODBG_REG_SP], CORODBG_LOC_ADDR, 64},
        {dw[CORODBG_REG_FP], CORODBG_LOC_LOAD, 48}};
    struct corodbg_reg_loc bad[3];
    uint64_t block[8] = {0}, saved_sp = 0;
    const struct corodbg_descriptor *d = &corodbg_table;

    corodbg_co *co = corodbg_create("moded", NULL, stack_a, sizeof stack_a,
                                    NULL);
    CHECK(co != NULL);
    CHECK_EQ(co->regs_mode, CORODBG_REGS_TABLE);
    /* No layout yet: the entry cannot use the mode. */
    CHECK_EQ(corodbg_regs_at_block(co, block), CORODBG_ESTATE);
    CHECK_EQ(corodbg_regs_at_frame(co, &saved_sp), CORODBG_ESTATE);
    CHECK_EQ(d->block_layout_count, 0);
    /* Misuse: NULL, empty, too long, no sp, no pc, a duplicate, a bad how. */
    CHECK_EQ(corodbg_set_block_layout(NULL, 2), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_block_layout(good, 0), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_block_layout(good, CORODBG_LAYOUT_MAX + 1),
             CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_block_layout(good, 1), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_frame_layout(good + 1, 2), CORODBG_EINVAL);
    memcpy(bad, good, sizeof bad);
    bad[2].dwarf = bad[0].dwarf;
    CHECK_EQ(corodbg_set_block_layout(bad, 3), CORODBG_EINVAL);
    memcpy(bad, good, sizeof bad);
    bad[2].how = 7;
    CHECK_EQ(corodbg_set_frame_layout(bad, 3), CORODBG_EINVAL);
    CHECK_EQ(d->block_layout_count, 0);
    CHECK_EQ(d->frame_layout_count, 0);
    /* Published as given, the rest zeroed. */
    CHECK_EQ(corodbg_set_block_layout(good, 3), CORODBG_OK);
    CHECK_EQ(corodbg_set_frame_layout(good, 2), CORODBG_OK);
    CHECK_EQ(d->block_layout_count, 3);
    CHECK_EQ(d->frame_layout_count, 2);
    CHECK(memcmp(d->block_layout, good, sizeof good) == 0);
    CHECK_EQ(d->frame_layout[2].dwarf, 0);
    CHECK_EQ(d->block_layout[1].how, CORODBG_LOC_ADDR);
    CHECK_EQ(d->block_layout[1].offset, 64);
    /* Both layouts are described by field records of kind REGLOCS. */
    const struct corodbg_field *f = find_field(
        d->desc_fields_off, d->desc_fields_count, CORODBG_DF_FRAME_LAYOUT);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ(f->kind, CORODBG_KIND_REGLOCS);
        CHECK_EQ(f->size, CORODBG_LAYOUT_MAX * sizeof(struct corodbg_reg_loc));
    }
    f = find_field(d->entry_fields_off, d->entry_fields_count,
                   CORODBG_EF_REGS_ADDR);
    CHECK(f != NULL && f->kind == CORODBG_KIND_PTR);

    /* Point the entry at a block, then at a saved-sp word. */
    co->regs[CORODBG_REG_PC] = 0x1234;
    uint32_t seq = co->seq;
    CHECK_EQ(corodbg_regs_at_block(NULL, block), CORODBG_EINVAL);
    CHECK_EQ(corodbg_regs_at_block(co, NULL), CORODBG_EINVAL);
    CHECK_EQ(corodbg_regs_at_block(co, block), CORODBG_OK);
    CHECK_EQ(co->regs_mode, CORODBG_REGS_BLOCK);
    CHECK_EQ(co->regs_addr, (uintptr_t)block);
    CHECK_EQ(co->regs[CORODBG_REG_PC], 0);
    CHECK_EQ(co->regs[CORODBG_REG_SP], co->stack_hi);
    CHECK_EQ(co->seq, seq + 2);
    CHECK(d->regs_modes & (1u << CORODBG_REGS_BLOCK));
    CHECK_EQ(corodbg_regs_at_frame(co, &saved_sp), CORODBG_OK);
    CHECK_EQ(co->regs_mode, CORODBG_REGS_FRAME);
    CHECK_EQ(co->regs_addr, (uintptr_t)&saved_sp);
    CHECK(d->regs_modes & (1u << CORODBG_REGS_FRAME));
    CHECK_EQ(corodbg_exit(co), CORODBG_OK);
    /* A reused slot starts in mode TABLE again. */
    co = corodbg_create("again", NULL, NULL, 0, NULL);
    CHECK(co != NULL && co->regs_mode == CORODBG_REGS_TABLE &&
          co->regs_addr == 0);
    corodbg_exit(co);
}

/* The runtime describes itself: code globs (cut at a whole glob when too
 * long), an address range, the start function; creation site set later. */
static void test_describe_runtime(void)
{
    const struct corodbg_descriptor *d = &corodbg_table;
    char longer[2 * CORODBG_RUNTIME_CODE_MAX];
    CHECK_EQ(corodbg_set_runtime_code(NULL), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_runtime_code("rt_*,file:*rt/src/*"), CORODBG_OK);
    CHECK(strcmp(d->runtime_code, "rt_*,file:*rt/src/*") == 0);
    memset(longer, 0, sizeof longer);
    for (size_t i = 0; i + 6 < sizeof longer - 1; i += 6)
        memcpy(longer + i, "abcde,", 6);
    CHECK_EQ(corodbg_set_runtime_code(longer), CORODBG_ETRUNC);
    size_t n = strlen(d->runtime_code);
    CHECK(n < CORODBG_RUNTIME_CODE_MAX && n > 0);
    CHECK(n % 6 == 5); /* whole "abcde" globs only, no trailing comma */
    corodbg_set_runtime_range((void *)0x1000, (void *)0x2000);
    CHECK_EQ(d->runtime_code_lo, 0x1000);
    CHECK_EQ(d->runtime_code_hi, 0x2000);
    corodbg_set_runtime_start((void *)&test_describe_runtime);
    CHECK_EQ(d->runtime_start, (uintptr_t)&test_describe_runtime);
    corodbg_co *co = corodbg_create("site", NULL, NULL, 0, (void *)0x10);
    uint32_t seq = co->seq;
    CHECK_EQ(corodbg_set_create_pc(NULL, (void *)0x20), CORODBG_EINVAL);
    CHECK_EQ(corodbg_set_create_pc(co, (void *)0x20), CORODBG_OK);
    CHECK_EQ(co->create_pc, 0x20);
    CHECK_EQ(co->seq, seq + 2);
    corodbg_exit(co);
    corodbg_set_runtime_code("");
    corodbg_set_runtime_range(NULL, NULL);
    corodbg_set_runtime_start(NULL);
}

/* A coroutine that resumed another is blocked on it, not running; the
 * way back runs it again. */
static void test_nested_resume(void)
{
    corodbg_co *a = corodbg_create("outer", NULL, NULL, 0, NULL);
    corodbg_co *b = corodbg_create("inner", NULL, NULL, 0, NULL);
    CHECK_EQ(corodbg_resume(a, NULL), CORODBG_EINVAL);
    corodbg_switch(NULL, a);
    CHECK_EQ(corodbg_resume(a, b), CORODBG_OK);
    CHECK_EQ(a->state, CORODBG_BLOCKED);
    CHECK_EQ(a->wait_reason, CORODBG_WAIT_RESUME);
    CHECK_EQ(a->wait_addr, (uintptr_t)b);
    CHECK_EQ(a->tid, 0);
    CHECK_EQ(b->state, CORODBG_RUNNING);
    CHECK(corodbg_current() == b);
    corodbg_switch(b, a); /* b yields back into a's resume call */
    CHECK_EQ(a->state, CORODBG_RUNNING);
    CHECK_EQ(b->state, CORODBG_RUNNABLE);
    corodbg_switch(a, NULL);
    CHECK_EQ(corodbg_resume(NULL, b), CORODBG_OK); /* from the scheduler */
    CHECK_EQ(b->state, CORODBG_RUNNING);
    corodbg_switch(b, NULL);
    corodbg_exit(a);
    corodbg_exit(b);
}

static void test_strerror(void)
{
    CHECK(strcmp(corodbg_strerror(CORODBG_OK), "success") == 0);
    CHECK(strstr(corodbg_strerror(CORODBG_ESTATE), "state") != NULL);
    CHECK(strstr(corodbg_strerror(CORODBG_ETRUNC), "truncated") != NULL);
    CHECK(strcmp(corodbg_strerror(12345), "unknown corodbg result") == 0);
    corodbg_set_runtime_name("unit-test-runtime-name-too-long");
    CHECK_EQ(strlen(corodbg_table.runtime_name), 15);
}

/* A chained user handler sees the crash already recorded. */
static int report_fd;
static void user_handler(int sig)
{
    uint64_t rec[4] = {corodbg_table.crashed_id, (uint64_t)sig, 0, 0};
    corodbg_co *co = corodbg_lookup(rec[0]);
    rec[2] = co ? co->state : 0;
    rec[3] = co ? co->fault_addr : 0;
    if (write(report_fd, rec, sizeof rec) != (ssize_t)sizeof rec)
        _exit(3);
    _exit(7);
}

static void crash_child(int chain)
{
    if (chain == 2) { /* abort(): a signal with no fault address */
        signal(SIGABRT, user_handler);
        corodbg_install_crash_handler();
        corodbg_co *a = corodbg_create("aborter", NULL, NULL, 0, NULL);
        corodbg_switch(NULL, a);
        abort();
    }
    if (chain)
        signal(SIGSEGV, user_handler);
    corodbg_install_crash_handler();
    CHECK_EQ(corodbg_install_crash_handler(), CORODBG_OK); /* idempotent */
    corodbg_co *a = corodbg_create("crasher", NULL, NULL, 0, NULL);
    corodbg_switch(NULL, a);
    /* The address comes through a volatile so the compiler cannot see it. */
    volatile uintptr_t where = 0x10;
    *(volatile int *)where = 1;
    _exit(99);
}

static void test_crash_handler(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        crash_child(1);
    }
    close(fds[1]);
    uint64_t rec[4] = {0};
    CHECK_EQ(read(fds[0], rec, sizeof rec), sizeof rec);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    CHECK(rec[0] != 0);
    CHECK_EQ(rec[1], SIGSEGV);
    CHECK_EQ(rec[2], CORODBG_CRASHED);
    CHECK_EQ(rec[3], 0x10);

    /* abort() inside a coroutine: recorded, but si_addr is the sender's
     * pid there, so no fault address. */
    CHECK(pipe(fds) == 0);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        crash_child(2);
    }
    close(fds[1]);
    memset(rec, 0, sizeof rec);
    CHECK_EQ(read(fds[0], rec, sizeof rec), sizeof rec);
    close(fds[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    CHECK_EQ(rec[1], SIGABRT);
    CHECK_EQ(rec[2], CORODBG_CRASHED);
    CHECK_EQ(rec[3], 0);

    /* Without a handler of its own the process still dies of SIGSEGV. */
    pid = fork();
    if (pid == 0) {
        /* No core file from this deliberate crash. */
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        crash_child(0);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

/* 1,000,000 create/exit cycles reuse one slot: memory stays bounded. */
static void test_churn(void)
{
    uint32_t chunks = corodbg_table.nchunks;
    for (int i = 0; i < 1000000; i++) {
        corodbg_co *c = corodbg_create("churn", NULL, NULL, 0, NULL);
        if (!c || corodbg_exit(c) != CORODBG_OK) {
            CHECK(!"churn create/exit failed");
            return;
        }
    }
    CHECK_EQ(corodbg_table.nchunks, chunks);
    CHECK_EQ(corodbg_table.generation % 2, 0);
}

/* 1,000,000 live coroutines at once: lookup stays exact, then all exit
 * and a second wave reuses the same chunks. */
static corodbg_co *many[1000000];
static void test_million_live(void)
{
    size_t n = sizeof many / sizeof many[0];
    size_t live = corodbg_live_count();
    for (size_t i = 0; i < n; i++)
        many[i] = corodbg_create("m", NULL, NULL, 0, NULL);
    CHECK(many[n - 1] != NULL);
    CHECK_EQ(corodbg_live_count(), live + n);
    uint32_t chunks = corodbg_table.nchunks;
    CHECK(chunks >= n / 4096);
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 997)
        bad += corodbg_lookup(corodbg_id(many[i])) != many[i];
    CHECK_EQ(bad, 0);
    for (size_t i = 0; i < n; i++)
        bad += corodbg_exit(many[i]) != CORODBG_OK;
    CHECK_EQ(bad, 0);
    CHECK_EQ(corodbg_live_count(), live);
    for (size_t i = 0; i < n; i++)
        many[i] = corodbg_create("m2", NULL, NULL, 0, NULL);
    CHECK_EQ(corodbg_table.nchunks, chunks);
    for (size_t i = 0; i < n; i++)
        corodbg_exit(many[i]);
}

int main(void)
{
    RUN(test_static_descriptor);
    RUN(test_null_handles);
    RUN(test_create_fields);
    RUN(test_names);
    RUN(test_switch_block_wake);
    RUN(test_switch_state_word);
    RUN(test_exit_reuse_and_double_exit);
    RUN(test_event_filter);
    RUN(test_panic);
    RUN(test_leak_helpers);
    RUN(test_regs_modes);
    RUN(test_describe_runtime);
    RUN(test_nested_resume);
    RUN(test_strerror);
    RUN(test_crash_handler);
    RUN(test_churn);
    RUN(test_million_live);
    return check_summary();
}
