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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define SEED 0x9E3779B97F4A7C15ULL
#define K1 0xFF51AFD7ED558CCDULL
#define K2 0xC4CEB9FE1A85EC53ULL
#define MIX 0x2545F4914F6CDD1DULL

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
            uint64_t mixed = (h ^ (lo | (hi << 32))) * MIX;
            h = mixed ^ (mixed >> 29);
        }
        h ^= h >> 33;
        h *= K1;
        h ^= h >> 33;
        h *= K2;
        h ^= h >> 33;
        h_out[i] = h;
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&points);
    PyBuffer_Release(&lengths);
    return out;
}

static PyMethodDef methods[] = {
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
