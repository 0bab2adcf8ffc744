/* Row fingerprints (fingerprint.py) in one call per block: the merge's hot loop.
 *
 * The NumPy version walks the rows' code points one 64-bit word at a time across the
 * whole block (about 50 passes over it for a population row); this does each row in one
 * pass. Same function, same results: fingerprint.py falls back to NumPy when this module
 * was not built (no C compiler at install time).
 *
 *   hash_block(points, width, lengths) -> bytes
 *       points: n * width UCS-4 code points (uint32, row-major, zero-padded)
 *       lengths: n int64 row lengths in code points
 *       returns n uint64 fingerprints, native byte order, concatenated
 *   hash_arrow(stream) -> list[bytes]
 *       the same, one bytes per array, of the strings of an Arrow C stream (a PyCapsule from a Polars
 *       Series' __arrow_c_stream__: utf8, large utf8 or utf8 view, no nulls), read in
 *       place as UTF-8: no copy to fixed-width code points
 */
#include "../_arrow.h"

#define SEED 0x9E3779B97F4A7C15ULL
#define K1 0xFF51AFD7ED558CCDULL
#define K2 0xC4CEB9FE1A85EC53ULL
#define MIX 0x2545F4914F6CDD1DULL

static inline uint64_t
mix(uint64_t h, uint64_t word)
{
    uint64_t mixed = (h ^ word) * MIX;
    return mixed ^ (mixed >> 29);
}

static inline uint64_t
finish(uint64_t h)
{
    h ^= h >> 33;
    h *= K1;
    h ^= h >> 33;
    h *= K2;
    h ^= h >> 33;
    return h;
}

/* The fingerprint of one UTF-8 string (valid UTF-8, as Arrow strings are). */
static uint64_t
hash_utf8(const unsigned char *s, int64_t size)
{
    int64_t chars = 0;
    for (int64_t i = 0; i < size; i++)
        chars += (s[i] & 0xC0) != 0x80;
    uint64_t h = SEED ^ ((uint64_t)chars * K1);
    uint64_t pair[2];
    int have = 0;
    for (int64_t i = 0; i < size;) {
        unsigned char b = s[i];
        uint32_t cp;
        int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (i + n > size)
            n = (int)(size - i);
        cp = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
        for (int k = 1; k < n; k++)
            cp = (cp << 6) | (s[i + k] & 0x3F);
        i += n;
        pair[have++] = cp;
        if (have == 2) {
            h = mix(h, pair[0] | (pair[1] << 32));
            have = 0;
        }
    }
    if (have)
        h = mix(h, pair[0]);
    return finish(h);
}

static PyObject *
rowhash_hash_block(PyObject *self, PyObject *args)
{
    Py_buffer points, lengths;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*ny*", &points, &width, &lengths))
        return NULL;
    PyObject *out = NULL;
    Py_ssize_t n = lengths.len / (Py_ssize_t)sizeof(int64_t);
    if (width < 1 || lengths.len % (Py_ssize_t)sizeof(int64_t) != 0
        || points.len != n * width * (Py_ssize_t)sizeof(uint32_t)) {
        PyErr_SetString(PyExc_ValueError, "points must hold n * width uint32, lengths n int64");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint64_t));
    if (out == NULL)
        goto done;
    const uint32_t *p = (const uint32_t *)points.buf;
    const int64_t *len = (const int64_t *)lengths.buf;
    uint64_t *h_out = (uint64_t *)PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t *row = p + i * width;
        int64_t chars = len[i] < 0 ? 0 : (len[i] > width ? width : len[i]);
        uint64_t h = SEED ^ ((uint64_t)len[i] * K1);
        for (int64_t k = 0; 2 * k < chars; k++) {
            uint64_t lo = row[2 * k];
            uint64_t hi = 2 * k + 1 < width ? row[2 * k + 1] : 0;
            h = mix(h, lo | (hi << 32));
        }
        h_out[i] = finish(h);
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&points);
    PyBuffer_Release(&lengths);
    return out;
}

static void
hash_each(enum arrow_strings kind, const struct ArrowArray *a, unsigned char *out)
{
    uint64_t *h = (uint64_t *)out;
    for (int64_t i = 0; i < a->length; i++) {
        int64_t size;
        const unsigned char *s = arrow_string(kind, a, i, &size);
        h[i] = hash_utf8(s, size);
    }
}

static PyObject *
rowhash_hash_arrow(PyObject *self, PyObject *capsule)
{
    return arrow_map_strings(capsule, sizeof(uint64_t), 0, hash_each);
}

static PyMethodDef methods[] = {
    {"hash_arrow", rowhash_hash_arrow, METH_O,
     "hash_arrow(stream capsule) -> list[bytes]: uint64 fingerprints of the stream's strings"},
    {"hash_block", rowhash_hash_block, METH_VARARGS,
     "hash_block(points, width, lengths) -> bytes: n uint64 row fingerprints"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rowhash", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__rowhash(void)
{
    return PyModule_Create(&module);
}
