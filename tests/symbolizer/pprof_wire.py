"""A small, independent pprof (perftools.profiles.Profile) encoder/decoder.

Written for the corosym tests from the protobuf wire format, so the tests
can build raw profiles and check corosym's output without trusting corosym's
own decoder.  Only the stdlib is used.
"""
import gzip
import io

# Profile field numbers (symbolizer/pprof/proto/profile.proto).
_PROFILE = {1: "sample_type", 2: "sample", 3: "mapping", 4: "location",
            5: "function", 6: "string_table", 7: "drop_frames",
            8: "keep_frames", 9: "time_nanos", 10: "duration_nanos",
            11: "period_type", 12: "period", 13: "comment",
            14: "default_sample_type", 15: "doc_url"}
_MAPPING = {1: "id", 2: "memory_start", 3: "memory_limit", 4: "file_offset",
            5: "filename", 6: "build_id", 7: "has_functions",
            8: "has_filenames", 9: "has_line_numbers",
            10: "has_inline_frames"}
_FUNCTION = {1: "id", 2: "name", 3: "system_name", 4: "filename",
             5: "start_line"}


def varint(n):
    """Encode N (int, negatives as 64-bit two's complement)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return varint(field << 3 | wire)


def _vfield(field, n):
    if not n:
        return b""
    return _key(field, 0) + varint(n)


def _bytes(field, data):
    return _key(field, 2) + varint(len(data)) + data


def _packed(field, values):
    if not values:
        return b""
    return _bytes(field, b"".join(varint(v) for v in values))


class Builder:
    """Builds a Profile message.  Strings are interned automatically."""

    def __init__(self, sample_types=(("samples", "count"),)):
        self.strings = [""]
        self._sidx = {"": 0}
        self.sample_types = [(self.s(t), self.s(u)) for t, u in sample_types]
        self.mappings = []
        self.locations = []
        self.functions = []
        self.samples = []
        self.default_sample_type = 0
        self.period_type = None
        self.period = 0
        self.extra = b""   # raw bytes appended to the message

    def s(self, text):
        if text not in self._sidx:
            self._sidx[text] = len(self.strings)
            self.strings.append(text)
        return self._sidx[text]

    def mapping(self, start, limit, offset, filename, build_id="", **flags):
        mid = len(self.mappings) + 1
        m = {"id": mid, "memory_start": start, "memory_limit": limit,
             "file_offset": offset, "filename": self.s(filename),
             "build_id": self.s(build_id)}
        m.update(flags)
        self.mappings.append(m)
        return mid

    def function(self, name, system_name=None, filename="", start_line=0):
        fid = len(self.functions) + 1
        self.functions.append({"id": fid, "name": self.s(name),
                               "system_name": self.s(system_name or name),
                               "filename": self.s(filename),
                               "start_line": start_line})
        return fid

    def location(self, mapping_id, address, lines=()):
        """LINES: (function_id, line) pairs, innermost first."""
        lid = len(self.locations) + 1
        self.locations.append({"id": lid, "mapping_id": mapping_id,
                               "address": address, "lines": list(lines)})
        return lid

    def sample(self, location_ids, values):
        """LOCATION_IDS leaf first."""
        self.samples.append((list(location_ids), list(values)))

    def encode(self):
        out = bytearray()
        for t, u in self.sample_types:
            out += _bytes(1, _vfield(1, t) + _vfield(2, u))
        for locs, vals in self.samples:
            out += _bytes(2, _packed(1, locs) + _packed(2, vals))
        for m in self.mappings:
            body = b""
            for num, name in _MAPPING.items():
                body += _vfield(num, int(m.get(name, 0)))
            out += _bytes(3, body)
        for loc in self.locations:
            body = (_vfield(1, loc["id"]) + _vfield(2, loc["mapping_id"]) +
                    _vfield(3, loc["address"]))
            for fid, line in loc["lines"]:
                body += _bytes(4, _vfield(1, fid) + _vfield(2, line))
            out += _bytes(4, body)
        for f in self.functions:
            body = b""
            for num, name in _FUNCTION.items():
                body += _vfield(num, f[name])
            out += _bytes(5, body)
        for text in self.strings:
            out += _bytes(6, text.encode())
        if self.period_type:
            out += _bytes(11, _vfield(1, self.s(self.period_type[0])) +
                          _vfield(2, self.s(self.period_type[1])))
        out += _vfield(12, self.period)
        out += _vfield(14, self.default_sample_type)
        return bytes(out) + self.extra

    def write(self, path, compress=True):
        data = self.encode()
        if compress:
            data = gzip.compress(data, mtime=0)
        with open(path, "wb") as f:
            f.write(data)
        return path


# ---- decoding ----

class DecodeError(Exception):
    pass


def _read_varint(buf, pos):
    shift = n = 0
    while True:
        if pos >= len(buf):
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint too long")


def _fields(buf):
    """Yield (field, wire, value) for a message body."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _read_varint(buf, pos)
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            val = bytes(buf[pos:pos + n])
            if len(val) != n:
                raise DecodeError("truncated field")
            pos += n
        elif wire == 1:
            val = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
        elif wire == 5:
            val = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        else:
            raise DecodeError("bad wire type %d" % wire)
        yield field, wire, val


def _ints(wire, val):
    """A repeated varint field value: packed (bytes) or one varint."""
    if wire == 0:
        return [val]
    out, pos = [], 0
    while pos < len(val):
        v, pos = _read_varint(val, pos)
        out.append(v)
    return out


def _signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


class Profile:
    """A decoded profile with string indexes resolved."""

    def __init__(self, data):
        if data[:2] == b"\x1f\x8b":
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read()
        self.strings = []
        raw_st, raw_samples, raw_maps, raw_locs, raw_funcs = [], [], [], [], []
        self.default_sample_type = 0
        for field, wire, val in _fields(data):
            if field == 1:
                raw_st.append(dict((f, v) for f, _, v in _fields(val)))
            elif field == 2:
                raw_samples.append(val)
            elif field == 3:
                raw_maps.append(val)
            elif field == 4:
                raw_locs.append(val)
            elif field == 5:
                raw_funcs.append(val)
            elif field == 6:
                self.strings.append(val.decode())
            elif field == 14:
                self.default_sample_type = val
        s = self.str
        self.sample_types = [(s(d.get(1, 0)), s(d.get(2, 0))) for d in raw_st]
        self.mappings = {}
        for body in raw_maps:
            m = dict((name, 0) for name in _MAPPING.values())
            for f, _, v in _fields(body):
                if f in _MAPPING:
                    m[_MAPPING[f]] = v
            m["filename"] = s(m["filename"])
            m["build_id"] = s(m["build_id"])
            self.mappings[m["id"]] = m
        self.functions = {}
        for body in raw_funcs:
            fn = dict((name, 0) for name in _FUNCTION.values())
            for f, _, v in _fields(body):
                if f in _FUNCTION:
                    fn[_FUNCTION[f]] = v
            for k in ("name", "system_name", "filename"):
                fn[k] = s(fn[k])
            self.functions[fn["id"]] = fn
        self.locations = {}
        for body in raw_locs:
            loc = {"id": 0, "mapping_id": 0, "address": 0, "lines": []}
            for f, _, v in _fields(body):
                if f == 1:
                    loc["id"] = v
                elif f == 2:
                    loc["mapping_id"] = v
                elif f == 3:
                    loc["address"] = v
                elif f == 4:
                    ln = {"function_id": 0, "line": 0, "column": 0}
                    for lf, _, lv in _fields(v):
                        if lf == 1:
                            ln["function_id"] = lv
                        elif lf == 2:
                            ln["line"] = _signed(lv)
                        elif lf == 3:
                            ln["column"] = _signed(lv)
                    loc["lines"].append(ln)
            self.locations[loc["id"]] = loc
        self.samples = []
        for body in raw_samples:
            locs, vals = [], []
            for f, w, v in _fields(body):
                if f == 1:
                    locs += _ints(w, v)
                elif f == 2:
                    vals += [_signed(x) for x in _ints(w, v)]
            self.samples.append((locs, vals))

    def str(self, i):
        return self.strings[i] if 0 <= i < len(self.strings) else ""

    def frames(self, loc_id):
        """[(function name, file, line, column)] innermost first."""
        out = []
        for ln in self.locations[loc_id]["lines"]:
            fn = self.functions[ln["function_id"]]
            out.append((fn["name"], fn["filename"], ln["line"], ln["column"]))
        return out


def read(path):
    with open(path, "rb") as f:
        return Profile(f.read())
