/* RFC 9162 tree hashing of whole lists in one call: the ledger's append hot path.
 *
 * Python pays ~1-2 us of interpreter work per hash, more than the hash itself costs
 * (SHA-256 with the CPU's SHA extensions, or SM3, through OpenSSL's libcrypto). These two
 * functions hash a whole batch per call; merkle.BulkHasher falls back to hashlib when this
 * module was not built (no C compiler or no OpenSSL headers at install time).
 *
 *   leaves(alg, entries) -> bytes   H(0x00 || e) for every e, 32 bytes each, concatenated
 *   nodes(alg, level)    -> bytes   H(0x01 || l || r) for every 64-byte pair of `level`
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>

static const EVP_MD *md_sha256 = NULL;
static const EVP_MD *md_sm3 = NULL;

static const EVP_MD *
md_named(const char *alg)
{
    if (strcmp(alg, "sha256") == 0)
        return md_sha256;
    if (strcmp(alg, "sm3") == 0)
        return md_sm3;
    return NULL;
}

/* Prefixed digests of `count` messages; 0 on an OpenSSL failure. */
static int
digest_all(const EVP_MD *md, unsigned char prefix, const char *const *data,
           const Py_ssize_t *sizes, Py_ssize_t count, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL;
    unsigned int len;
    for (Py_ssize_t i = 0; ok && i < count; i++) {
        ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &prefix, 1)
             && EVP_DigestUpdate(ctx, data[i], (size_t)sizes[i])
             && EVP_DigestFinal_ex(ctx, out + 32 * i, &len) && len == 32;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

static const EVP_MD *
md_or_raise(const char *alg)
{
    const EVP_MD *md = md_named(alg);
    if (md == NULL)
        PyErr_Format(PyExc_ValueError, "hash %s is not available in OpenSSL", alg);
    return md;
}

static PyObject *
treehash_leaves(PyObject *self, PyObject *args)
{
    const char *alg;
    PyObject *entries;
    if (!PyArg_ParseTuple(args, "sO", &alg, &entries))
        return NULL;
    const EVP_MD *md = md_or_raise(alg);
    if (md == NULL)
        return NULL;
    PyObject *seq = PySequence_Fast(entries, "entries must be a sequence of bytes");
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    const char **data = PyMem_Malloc(sizeof(char *) * (size_t)(count ? count : 1));
    Py_ssize_t *sizes = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    PyObject *out = PyBytes_FromStringAndSize(NULL, 32 * count);
    if (data == NULL || sizes == NULL || out == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyBytes_Check(items[i])) {
            PyErr_Format(PyExc_TypeError, "entry %zd is not bytes", i);
            goto fail;
        }
        data[i] = PyBytes_AS_STRING(items[i]);
        sizes[i] = PyBytes_GET_SIZE(items[i]);
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS  /* the list keeps every entry alive */
    ok = digest_all(md, 0x00, data, sizes, count, (unsigned char *)PyBytes_AS_STRING(out));
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to hash the entries");
        goto fail;
    }
    PyMem_Free(data);
    PyMem_Free(sizes);
    Py_DECREF(seq);
    return out;
fail:
    PyMem_Free(data);
    PyMem_Free(sizes);
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *
treehash_nodes(PyObject *self, PyObject *args)
{
    const char *alg;
    Py_buffer level;
    if (!PyArg_ParseTuple(args, "sy*", &alg, &level))
        return NULL;
    PyObject *out = NULL;
    const char **data = NULL;
    Py_ssize_t *sizes = NULL;
    const EVP_MD *md = md_or_raise(alg);
    if (md == NULL)
        goto done;
    if (level.len % 64 != 0) {
        PyErr_SetString(PyExc_ValueError, "a level holds whole pairs of 32-byte hashes");
        goto done;
    }
    Py_ssize_t count = level.len / 64;
    data = PyMem_Malloc(sizeof(char *) * (size_t)(count ? count : 1));
    sizes = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    out = PyBytes_FromStringAndSize(NULL, 32 * count);
    if (data == NULL || sizes == NULL || out == NULL) {
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        data[i] = (const char *)level.buf + 64 * i;
        sizes[i] = 64;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS  /* the buffer is held until PyBuffer_Release */
    ok = digest_all(md, 0x01, data, sizes, count, (unsigned char *)PyBytes_AS_STRING(out));
    Py_END_ALLOW_THREADS
    if (!ok) {
        Py_CLEAR(out);
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL failed to hash the nodes");
    }
done:
    PyMem_Free(data);
    PyMem_Free(sizes);
    PyBuffer_Release(&level);
    return out;
}

static PyMethodDef treehash_methods[] = {
    {"leaves", treehash_leaves, METH_VARARGS,
     "leaves(alg, entries) -> H(0x00 || e) of every entry, 32 bytes each, concatenated"},
    {"nodes", treehash_nodes, METH_VARARGS,
     "nodes(alg, level) -> H(0x01 || l || r) of every 64-byte pair, concatenated"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef treehash_module = {
    PyModuleDef_HEAD_INIT, "_treehash", "RFC 9162 tree hashing of whole lists (OpenSSL).",
    -1, treehash_methods,
};

PyMODINIT_FUNC
PyInit__treehash(void)
{
    /* Fetched once: a by-name lookup per digest would cost more than the digest. */
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    return PyModule_Create(&treehash_module);
}
