/* output.c - print results exactly like llvm-symbolizer 19. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"

void cs_out_init(cs_out *o, int fd)
{
    o->cap = 1 << 20;
    o->buf = malloc(o->cap);
    o->n = 0;
    o->fd = fd;
    if (!o->buf) {
        o->cap = 0;
    }
}

void cs_out_flush(cs_out *o)
{
    size_t off = 0;
    while (off < o->n) {
        ssize_t w = write(o->fd, o->buf + off, o->n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                exit(0);
            break;
        }
        off += (size_t)w;
    }
    o->n = 0;
}

void cs_out_mem(cs_out *o, const char *s, size_t n)
{
    if (o->n + n > o->cap) {
        cs_out_flush(o);
        if (n > o->cap) {
            size_t keep = o->n;
            o->n = 0;
            char *save = o->buf;
            o->buf = (char *)s;
            o->n = n;
            cs_out_flush(o);
            o->buf = save;
            o->n = keep;
            return;
        }
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

void cs_out_str(cs_out *o, const char *s) { cs_out_mem(o, s, strlen(s)); }

void cs_out_char(cs_out *o, char c)
{
    if (o->n + 1 > o->cap)
        cs_out_flush(o);
    o->buf[o->n++] = c;
}

void cs_out_u64(cs_out *o, uint64_t v)
{
    char t[24];
    int i = 24;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cs_out_mem(o, t + i, (size_t)(24 - i));
}

void cs_out_hex(cs_out *o, uint64_t v)
{
    static const char d[] = "0123456789abcdef";
    char t[20];
    int i = 20;
    do {
        t[--i] = d[v & 15];
        v >>= 4;
    } while (v);
    cs_out_mem(o, "0x", 2);
    cs_out_mem(o, t + i, (size_t)(20 - i));
}

void cs_out_json_str(cs_out *o, const char *s)
{
    static const char d[] = "0123456789abcdef";
    cs_out_char(o, '"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            cs_out_char(o, '\\');
            cs_out_char(o, (char)c);
        } else if (c == '\n') {
            cs_out_mem(o, "\\n", 2);
        } else if (c == '\t') {
            cs_out_mem(o, "\\t", 2);
        } else if (c == '\r') {
            cs_out_mem(o, "\\r", 2);
        } else if (c == '\b') {
            cs_out_mem(o, "\\b", 2);
        } else if (c == '\f') {
            cs_out_mem(o, "\\f", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char u[6] = {'\\', 'u', '0', '0', d[c >> 4], d[c & 15]};
            cs_out_mem(o, u, 6);
        } else {
            cs_out_char(o, (char)c);
        }
    }
    cs_out_char(o, '"');
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void json_header(cs_out *o, const cs_outcfg *c, const char *module,
                        const uint8_t *bid, size_t bidlen, int has_addr,
                        uint64_t addr, int first)
{
    if (c->json_array)
        cs_out_str(o, first ? "[" : ",");
    cs_out_char(o, '{');
    if (has_addr) {
        cs_out_str(o, "\"Address\":\"");
        cs_out_hex(o, addr);
        cs_out_str(o, "\",");
    }
    if (bidlen) {
        static const char d[] = "0123456789abcdef";
        cs_out_str(o, "\"BuildID\":\"");
        for (size_t i = 0; i < bidlen; i++) {
            cs_out_char(o, d[bid[i] >> 4]);
            cs_out_char(o, d[bid[i] & 15]);
        }
        cs_out_str(o, "\",");
    }
    cs_out_str(o, "\"ModuleName\":");
    cs_out_json_str(o, module ? module : "");
}

static void json_footer(cs_out *o, const cs_outcfg *c)
{
    cs_out_char(o, '}');
    if (!c->json_array)
        cs_out_char(o, '\n');
}

void cs_print_code(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, int has_addr,
                   uint64_t addr, const corosym_frame *f, size_t n,
                   int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        json_header(o, c, module, bid, bidlen, has_addr, addr, first_json);
        cs_out_str(o, ",\"Symbol\":[");
        for (size_t i = 0; i < n; i++) {
            const corosym_frame *x = &f[i];
            if (i)
                cs_out_char(o, ',');
            cs_out_str(o, "{\"Column\":");
            cs_out_u64(o, x->column);
            cs_out_str(o, ",\"Discriminator\":");
            cs_out_u64(o, x->discriminator);
            cs_out_str(o, ",\"FileName\":");
            const char *fn = x->file ? x->file : "";
            cs_out_json_str(o, c->basenames ? base_name(fn) : fn);
            cs_out_str(o, ",\"FunctionName\":");
            cs_out_json_str(o, c->functions != CS_FN_NONE && x->function
                                   ? x->function : "");
            cs_out_str(o, ",\"Line\":");
            cs_out_u64(o, x->line);
            cs_out_str(o, ",\"StartAddress\":");
            if (x->start_address) {
                cs_out_char(o, '"');
                cs_out_hex(o, x->start_address);
                cs_out_char(o, '"');
            } else {
                cs_out_str(o, "\"\"");
            }
            cs_out_str(o, ",\"StartFileName\":");
            cs_out_json_str(o, x->start_file ? x->start_file : "");
            cs_out_str(o, ",\"StartLine\":");
            cs_out_u64(o, x->start_line);
            cs_out_char(o, '}');
        }
        cs_out_char(o, ']');
        json_footer(o, c);
        return;
    }
    if (c->print_address) {
        cs_out_hex(o, addr);
        cs_out_str(o, c->pretty ? ": " : "\n");
    }
    for (size_t i = 0; i < n; i++) {
        const corosym_frame *x = &f[i];
        if (c->functions != CS_FN_NONE) {
            if (c->pretty && i > 0)
                cs_out_str(o, " (inlined by) ");
            cs_out_str(o, x->function ? x->function : "??");
            cs_out_str(o, c->pretty ? " at " : "\n");
        } else if (c->pretty && i > 0) {
            cs_out_str(o, " (inlined by) ");
        }
        const char *fn = x->file ? x->file : "??";
        cs_out_str(o, c->basenames ? base_name(fn) : fn);
        cs_out_char(o, ':');
        if (c->style == CS_STYLE_GNU) {
            cs_out_u64(o, x->line);
            if (x->discriminator) {
                cs_out_str(o, " (discriminator ");
                cs_out_u64(o, x->discriminator);
                cs_out_char(o, ')');
            }
        } else {
            cs_out_u64(o, x->line);
            cs_out_char(o, ':');
            cs_out_u64(o, x->column);
        }
        cs_out_char(o, '\n');
    }
    if (c->style == CS_STYLE_LLVM)
        cs_out_char(o, '\n');
}

void cs_print_data(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, uint64_t addr,
                   const char *name, uint64_t start, uint64_t size,
                   int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        json_header(o, c, module, bid, bidlen, 1, addr, first_json);
        cs_out_str(o, ",\"Data\":{\"Name\":");
        cs_out_json_str(o, name ? name : "");
        cs_out_str(o, ",\"Size\":\"");
        cs_out_hex(o, size);
        cs_out_str(o, "\",\"Start\":\"");
        cs_out_hex(o, start);
        cs_out_str(o, "\"}");
        json_footer(o, c);
        return;
    }
    if (c->print_address) {
        cs_out_hex(o, addr);
        cs_out_str(o, c->pretty ? ": " : "\n");
    }
    cs_out_str(o, name ? name : "??");
    cs_out_char(o, '\n');
    cs_out_u64(o, start);
    cs_out_char(o, ' ');
    cs_out_u64(o, size);
    cs_out_str(o, "\n??:?\n");
    if (c->style == CS_STYLE_LLVM)
        cs_out_char(o, '\n');
}

void cs_print_error(cs_out *o, const cs_outcfg *c, const char *module,
                    const char *msg, int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        json_header(o, c, module, NULL, 0, 0, 0, first_json);
        if (msg) {
            cs_out_str(o, ",\"Error\":{\"Message\":");
            cs_out_json_str(o, msg);
            cs_out_char(o, '}');
        }
        json_footer(o, c);
        return;
    }
    corosym_frame f;
    memset(&f, 0, sizeof f);
    cs_outcfg c2 = *c;
    c2.print_address = 0;
    cs_print_code(o, &c2, module, NULL, 0, 0, 0, &f, 1, first_json);
}
