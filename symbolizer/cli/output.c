/* output.c - print results exactly like llvm-symbolizer 19. */
#include <errno.h>
#include <stdio.h>
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
    o->before_write = NULL;
    o->before_arg = NULL;
    if (!o->buf) {
        o->cap = 0;
    }
}

/* A memory-only buffer (fd < 0) grows instead of being written out. */
static void out_grow(cs_out *o, size_t need)
{
    size_t c = o->cap ? o->cap : 4096;
    while (c < o->n + need)
        c *= 2;
    char *nb = realloc(o->buf, c);
    if (!nb) {
        fputs("corosym: out of memory\n", stderr);
        exit(70);
    }
    o->buf = nb;
    o->cap = c;
}

void cs_out_flush(cs_out *o)
{
    if (o->fd < 0)
        return;
    if (o->before_write)
        o->before_write(o->before_arg);
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
    if (o->fd < 0 && o->n + n > o->cap)
        out_grow(o, n);
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
    if (o->n + 1 > o->cap) {
        if (o->fd < 0)
            out_grow(o, 1);
        else
            cs_out_flush(o);
    }
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

/* Re-indents compact JSON in o->buf[from..] like llvm's formatv("{0:2}"):
   two spaces per level, "key": value, empty [] and {} kept. */
static void json_pretty(cs_out *o, size_t from, int depth)
{
    size_t n = o->n - from;
    char *src = malloc(n + 1);
    if (!src)
        return;
    memcpy(src, o->buf + from, n);
    src[n] = 0;
    o->n = from;
    int instr = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (instr) {
            cs_out_char(o, ch);
            if (ch == '\\' && i + 1 < n)
                cs_out_char(o, src[++i]);
            else if (ch == '"')
                instr = 0;
            continue;
        }
        switch (ch) {
        case '"':
            instr = 1;
            cs_out_char(o, ch);
            break;
        case '[': case '{':
            cs_out_char(o, ch);
            if (src[i + 1] == (ch == '[' ? ']' : '}')) {
                cs_out_char(o, src[++i]);
                break;
            }
            depth++;
            cs_out_char(o, '\n');
            for (int k = 0; k < depth; k++)
                cs_out_str(o, "  ");
            break;
        case ']': case '}':
            depth--;
            cs_out_char(o, '\n');
            for (int k = 0; k < depth; k++)
                cs_out_str(o, "  ");
            cs_out_char(o, ch);
            break;
        case ',':
            cs_out_char(o, ',');
            cs_out_char(o, '\n');
            for (int k = 0; k < depth; k++)
                cs_out_str(o, "  ");
            break;
        case ':':
            cs_out_str(o, ": ");
            break;
        default:
            cs_out_char(o, ch);
        }
    }
    free(src);
}

void cs_json_pretty(cs_out *o, size_t from, int depth)
{
    json_pretty(o, from, depth);
}

static void json_frame(cs_out *o, const cs_outcfg *c,
                   const corosym_frame *x)
{
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

void cs_print_code(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, int has_addr,
                   uint64_t addr, const corosym_frame *f, size_t n,
                   int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        json_header(o, c, module, bid, bidlen, has_addr, addr, first_json);
        cs_out_str(o, ",\"Symbol\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                cs_out_char(o, ',');
            json_frame(o, c, &f[i]);
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
            if (c->offsets && !x->line && x->symbol &&
                x->function == x->symbol) {
                cs_out_char(o, '+');
                cs_out_hex(o, x->symbol_offset);
            }
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

static void json_frame(cs_out *o, const cs_outcfg *c,
                       const corosym_frame *x);

void cs_print_symbol(cs_out *o, const cs_outcfg *c, const char *module,
                     const char *sym, int data, const corosym_frame *f,
                     int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        if (c->json_array)
            cs_out_str(o, first_json ? "[" : ",");
        cs_out_char(o, '{');
        if (data) {
            cs_out_str(o, "\"Data\":{\"Name\":\"\",\"Size\":\"0x0\","
                          "\"Start\":\"0x0\"},");
        } else {
            cs_out_str(o, "\"Loc\":[");
            if (f)
                json_frame(o, c, f);
            cs_out_str(o, "],");
        }
        cs_out_str(o, "\"ModuleName\":");
        cs_out_json_str(o, module ? module : "");
        cs_out_str(o, ",\"SymName\":");
        cs_out_json_str(o, sym);
        json_footer(o, c);
        return;
    }
    if (data) {
        cs_print_data(o, c, module, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0);
        return;
    }
    corosym_frame z;
    memset(&z, 0, sizeof z);
    cs_outcfg c2 = *c;
    c2.print_address = 0;
    cs_print_code(o, &c2, module, NULL, 0, 0, 0, f ? f : &z, 1, 0);
}

void cs_print_module_error(cs_out *o, const cs_outcfg *c, const char *module,
                           uint64_t addr, const char *msg, int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        if (c->json_array)
            cs_out_str(o, first_json ? "[" : ",");
        cs_out_str(o, "{\"Address\":\"");
        cs_out_hex(o, addr);
        cs_out_str(o, "\",\"Error\":{\"Message\":");
        cs_out_json_str(o, msg);
        cs_out_str(o, "},\"ModuleName\":");
        cs_out_json_str(o, module ? module : "");
        json_footer(o, c);
        return;
    }
    corosym_frame z;
    memset(&z, 0, sizeof z);
    cs_print_code(o, c, module, NULL, 0, 1, addr, &z, 1, first_json);
}

void cs_print_data(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, uint64_t addr,
                   const char *name, uint64_t start, uint64_t size,
                   const char *decl_file, uint32_t decl_line,
                   int first_json)
{
    if (c->style == CS_STYLE_JSON) {
        (void)bid;
        (void)bidlen;
        if (c->json_array)
            cs_out_str(o, first_json ? "[" : ",");
        cs_out_str(o, "{\"Address\":\"");
        cs_out_hex(o, addr);
        cs_out_str(o, "\",\"Data\":{\"Name\":");
        cs_out_json_str(o, name ? name : "");
        cs_out_str(o, ",\"Size\":\"");
        cs_out_hex(o, size);
        cs_out_str(o, "\",\"Start\":\"");
        cs_out_hex(o, start);
        cs_out_str(o, "\"},\"ModuleName\":");
        cs_out_json_str(o, module ? module : "");
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
    cs_out_char(o, '\n');
    if (decl_file && *decl_file) {
        cs_out_str(o, c->basenames ? base_name(decl_file) : decl_file);
        cs_out_char(o, ':');
        cs_out_u64(o, decl_line);
        cs_out_char(o, '\n');
    } else {
        cs_out_str(o, "??:?\n");
    }
    if (c->style == CS_STYLE_LLVM)
        cs_out_char(o, '\n');
}

void cs_print_error(cs_out *o, const cs_outcfg *c, const char *module,
                    const char *msg, int first_json)
{
    (void)msg;
    corosym_frame f;
    memset(&f, 0, sizeof f);
    cs_outcfg c2 = *c;
    c2.print_address = 0;
    cs_print_code(o, &c2, module, NULL, 0, 0, 0, &f, 1, first_json);
    return;
}
