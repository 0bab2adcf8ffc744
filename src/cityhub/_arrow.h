/* The Arrow C data and stream interfaces (arrow.apache.org/docs/format/CDataInterface),
 * and a walk over the strings of a stream: shared by the compiled extensions that read
 * Polars' strings in place (a Series' __arrow_c_stream__). */
#ifndef CITYHUB_ARROW_H
#define CITYHUB_ARROW_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

struct ArrowArrayStream {
    int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
    int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
    const char *(*get_last_error)(struct ArrowArrayStream *);
    void (*release)(struct ArrowArrayStream *);
    void *private_data;
};

enum arrow_strings { ARROW_UTF8, ARROW_LARGE_UTF8, ARROW_UTF8_VIEW };

/* The string at `i` of array `a` (its offset applied): its bytes and size. */
static inline const unsigned char *
arrow_string(enum arrow_strings kind, const struct ArrowArray *a, int64_t i, int64_t *size)
{
    int64_t at = a->offset + i;
    if (kind == ARROW_UTF8_VIEW) {
        const unsigned char *v = (const unsigned char *)a->buffers[1] + 16 * at;
        int32_t n, buffer, start;
        memcpy(&n, v, 4);
        *size = n;
        if (n <= 12)
            return v + 4;
        memcpy(&buffer, v + 8, 4);
        memcpy(&start, v + 12, 4);
        return (const unsigned char *)a->buffers[2 + buffer] + start;
    }
    if (kind == ARROW_LARGE_UTF8) {
        const int64_t *offsets = (const int64_t *)a->buffers[1];
        *size = offsets[at + 1] - offsets[at];
        return (const unsigned char *)a->buffers[2] + offsets[at];
    }
    const int32_t *offsets = (const int32_t *)a->buffers[1];
    *size = (int64_t)offsets[at + 1] - offsets[at];
    return (const unsigned char *)a->buffers[2] + offsets[at];
}

/* Whether value `i` is null (bit clear in the validity bitmap, when there is one). */
static inline int
arrow_null(const struct ArrowArray *a, int64_t i)
{
    const unsigned char *valid = (const unsigned char *)a->buffers[0];
    int64_t at = a->offset + i;
    return a->null_count != 0 && valid != NULL && !((valid[at >> 3] >> (at & 7)) & 1);
}

/* Call `each(kind, array, out + start, context)` for every array of the stream; `out`
 * holds `width` bytes per value. Returns a list of bytes (one per array), or NULL with
 * an exception set. `nulls`: whether null values are allowed. */
typedef void (*arrow_each)(enum arrow_strings, const struct ArrowArray *, unsigned char *);

static PyObject *
arrow_map_strings(PyObject *capsule, Py_ssize_t width, int nulls, arrow_each each)
{
    struct ArrowArrayStream *stream = PyCapsule_GetPointer(capsule, "arrow_array_stream");
    if (stream == NULL)
        return NULL;
    if (stream->release == NULL) {
        PyErr_SetString(PyExc_ValueError, "the Arrow stream was already consumed");
        return NULL;
    }
    struct ArrowSchema schema;
    if (stream->get_schema(stream, &schema) != 0) {
        PyErr_SetString(PyExc_ValueError, "cannot read the Arrow stream's schema");
        return NULL;
    }
    enum arrow_strings kind = ARROW_UTF8;
    int known = 1;
    if (strcmp(schema.format, "u") == 0)
        kind = ARROW_UTF8;
    else if (strcmp(schema.format, "U") == 0)
        kind = ARROW_LARGE_UTF8;
    else if (strcmp(schema.format, "vu") == 0)
        kind = ARROW_UTF8_VIEW;
    else
        known = 0;
    if (schema.release != NULL)
        schema.release(&schema);
    if (!known) {
        PyErr_SetString(PyExc_ValueError, "an Arrow stream of strings was expected");
        return NULL;
    }
    PyObject *parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    for (;;) {
        struct ArrowArray array;
        if (stream->get_next(stream, &array) != 0) {
            PyErr_SetString(PyExc_ValueError, "cannot read the Arrow stream");
            Py_DECREF(parts);
            return NULL;
        }
        if (array.release == NULL)
            break; /* the end of the stream */
        PyObject *part = NULL;
        if (!nulls && array.null_count != 0)
            PyErr_SetString(PyExc_ValueError, "strings without nulls were expected");
        else
            part = PyBytes_FromStringAndSize(NULL, array.length * width);
        if (part != NULL) {
            unsigned char *out = (unsigned char *)PyBytes_AS_STRING(part);
            Py_BEGIN_ALLOW_THREADS
            each(kind, &array, out);
            Py_END_ALLOW_THREADS
        }
        array.release(&array);
        if (part == NULL || PyList_Append(parts, part) != 0) {
            Py_XDECREF(part);
            Py_DECREF(parts);
            return NULL;
        }
        Py_DECREF(part);
    }
    return parts;
}

#endif
