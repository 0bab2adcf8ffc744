/* The fast lane's text test (canonical.py) in one pass over each value's UTF-8 bytes.
 *
 * The Polars test of a text column (trimming keeps the length, the length in characters,
 * a full-width probe) builds a trimmed copy of every value and joins the column to search
 * it; this reads Polars' strings in place through the Arrow C interface instead. Same
 * answers: canonical.py falls back to the Polars test when this module was not built.
 *
 *   scan(stream) -> list[bytes]     one uint32 per value, per array of the stream:
 *       bits 0-27  the value's length in characters (capped at 2**28 - 1)
 *       bit 29     it starts or ends with white space (what str.strip_chars() removes)
 *       bit 30     it holds a full-width form U+FF01..U+FF5E or U+3000 (folded by the
 *                  standardization)
 *       null values scan as 0
 */
#include "../_arrow.h"

#define CHARS 0x0FFFFFFFu
#define EDGE_SPACE (1u << 29)
#define FULL_WIDTH (1u << 30)

/* Unicode White_Space, as Rust's char::is_whitespace (Polars' strip_chars()). */
static inline int
white_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
           || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
           || c == 0x205F || c == 0x3000;
}

/* The code point starting at s[i] (valid UTF-8) and its size in bytes. */
static inline uint32_t
decode(const unsigned char *s, int64_t size, int64_t i, int *n)
{
    unsigned char b = s[i];
    int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if (i + len > size)
        len = (int)(size - i);
    uint32_t c = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (int k = 1; k < len; k++)
        c = (c << 6) | (s[i + k] & 0x3F);
    *n = len;
    return c;
}

/* Where the character ending at s[size - 1] starts. */
static inline int64_t
last_start(const unsigned char *s, int64_t size)
{
    int64_t k = size - 1;
    while (k > 0 && (s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

static void
scan_each(enum arrow_strings kind, const struct ArrowArray *a, unsigned char *out)
{
    uint32_t *flags = (uint32_t *)out;
    for (int64_t i = 0; i < a->length; i++) {
        int64_t size;
        if (arrow_null(a, i) || (arrow_string(kind, a, i, &size), size == 0)) {
            flags[i] = 0;
            continue;
        }
        const unsigned char *s = arrow_string(kind, a, i, &size);
        uint32_t f = 0;
        int64_t continuation = 0;
        for (int64_t j = 0; j < size; j++) /* a loop the compiler vectorizes */
            continuation += (s[j] & 0xC0) == 0x80;
        int64_t chars = size - continuation;
        /* U+FF01..U+FF5E is EF BC 81..EF BD 9E; U+3000 is E3 80 80: look only where
         * such a lead byte is (memchr: rare, and fast where absent) */
        for (const unsigned char *p = memchr(s, 0xEF, size); p != NULL && !f;
             p = memchr(p + 1, 0xEF, size - (p + 1 - s))) {
            int64_t j = p - s;
            if (j + 2 < size
                && ((s[j + 1] == 0xBC && s[j + 2] >= 0x81) || (s[j + 1] == 0xBD && s[j + 2] <= 0x9E)))
                f |= FULL_WIDTH;
        }
        for (const unsigned char *p = memchr(s, 0xE3, size); p != NULL && !f;
             p = memchr(p + 1, 0xE3, size - (p + 1 - s))) {
            int64_t j = p - s;
            if (j + 2 < size && s[j + 1] == 0x80 && s[j + 2] == 0x80)
                f |= FULL_WIDTH;
        }
        int n;
        int64_t end = last_start(s, size);
        if (white_space(decode(s, size, 0, &n)) || white_space(decode(s, size, end, &n)))
            f |= EDGE_SPACE;
        flags[i] = f | (uint32_t)(chars > CHARS ? CHARS : chars);
    }
}

static PyObject *
textscan_scan(PyObject *self, PyObject *capsule)
{
    return arrow_map_strings(capsule, sizeof(uint32_t), 1, scan_each);
}

static PyMethodDef methods[] = {
    {"scan", textscan_scan, METH_O,
     "scan(stream capsule) -> list[bytes]: uint32 length and flags of each string"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_textscan", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__textscan(void)
{
    return PyModule_Create(&module);
}
