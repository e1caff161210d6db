/* The rules' anchors present in a text, in one pass: what ``a in text`` for every anchor
 * gives (anchors.py, rules.present_anchors), without one substring search per anchor.
 *
 * AnchorIndex(anchors) files every anchor (a str of at least two code points) under a hash
 * of its first two code points; present(text) looks, at each position of the text, at the
 * anchors filed under the two code points there and compares the rest. A text of n code
 * points costs n bucket lookups and a few comparisons, whatever the number of anchors.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#define BUCKET_BITS 10
#define BUCKETS (1 << BUCKET_BITS)

typedef struct {
    PyObject_HEAD
    PyObject *anchors;      /* tuple of str */
    Py_ssize_t count;
    Py_UCS4 **points;       /* each anchor's code points */
    Py_ssize_t *lengths;
    Py_ssize_t *next;       /* the next anchor in the same bucket, or -1 */
    Py_ssize_t head[BUCKETS];
} AnchorIndex;

static Py_ssize_t bucket(Py_UCS4 a, Py_UCS4 b)
{
    return (Py_ssize_t)(((a * 0x9e3779b1u) ^ (b * 0x85ebca6bu)) >> (32 - BUCKET_BITS));
}

static void index_clear_arrays(AnchorIndex *self)
{
    if (self->points != NULL) {
        for (Py_ssize_t i = 0; i < self->count; i++)
            PyMem_Free(self->points[i]);
    }
    PyMem_Free(self->points);
    PyMem_Free(self->lengths);
    PyMem_Free(self->next);
    self->points = NULL;
    self->lengths = NULL;
    self->next = NULL;
    self->count = 0;
    for (Py_ssize_t b = 0; b < BUCKETS; b++)
        self->head[b] = -1;
}

static void index_dealloc(AnchorIndex *self)
{
    index_clear_arrays(self);
    Py_XDECREF(self->anchors);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int index_init(AnchorIndex *self, PyObject *args, PyObject *kwargs)
{
    PyObject *given;
    static char *keywords[] = {"anchors", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:AnchorIndex", keywords, &given))
        return -1;
    PyObject *anchors = PySequence_Tuple(given);
    if (anchors == NULL)
        return -1;
    Py_ssize_t count = PyTuple_GET_SIZE(anchors);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *a = PyTuple_GET_ITEM(anchors, i);
        if (!PyUnicode_Check(a) || PyUnicode_GET_LENGTH(a) < 2) {
            Py_DECREF(anchors);
            PyErr_SetString(PyExc_ValueError, "anchors must be str of at least 2 characters");
            return -1;
        }
    }
    index_clear_arrays(self); /* __init__ called again: start over */
    Py_XSETREF(self->anchors, anchors);
    self->points = PyMem_Calloc((size_t)count + 1, sizeof(Py_UCS4 *));
    self->lengths = PyMem_Malloc(((size_t)count + 1) * sizeof(Py_ssize_t));
    self->next = PyMem_Malloc(((size_t)count + 1) * sizeof(Py_ssize_t));
    if (self->points == NULL || self->lengths == NULL || self->next == NULL) {
        index_clear_arrays(self);
        PyErr_NoMemory();
        return -1;
    }
    self->count = count;
    for (Py_ssize_t i = count - 1; i >= 0; i--) {
        PyObject *a = PyTuple_GET_ITEM(anchors, i);
        Py_UCS4 *points = PyUnicode_AsUCS4Copy(a);
        if (points == NULL) {
            index_clear_arrays(self);
            return -1;
        }
        self->points[i] = points;
        self->lengths[i] = PyUnicode_GET_LENGTH(a);
        Py_ssize_t b = bucket(points[0], points[1]);
        self->next[i] = self->head[b];
        self->head[b] = i;
    }
    return 0;
}

static PyObject *index_present(AnchorIndex *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "present() takes a str");
        return NULL;
    }
    if (self->anchors == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "AnchorIndex was not initialised");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    char *seen = NULL;
    Py_ssize_t found = 0;
    for (Py_ssize_t i = 0; i + 1 < n && found < self->count; i++) {
        Py_UCS4 a = PyUnicode_READ(kind, data, i), b = PyUnicode_READ(kind, data, i + 1);
        for (Py_ssize_t k = self->head[bucket(a, b)]; k >= 0; k = self->next[k]) {
            const Py_UCS4 *p = self->points[k];
            Py_ssize_t len = self->lengths[k];
            if ((seen != NULL && seen[k]) || p[0] != a || p[1] != b || i + len > n)
                continue;
            Py_ssize_t j = 2;
            while (j < len && PyUnicode_READ(kind, data, i + j) == p[j])
                j++;
            if (j < len)
                continue;
            if (seen == NULL) {
                seen = PyMem_Calloc((size_t)self->count, 1);
                if (seen == NULL)
                    return PyErr_NoMemory();
            }
            seen[k] = 1;
            found++;
        }
    }
    PyObject *result = PyFrozenSet_New(NULL);
    for (Py_ssize_t k = 0; result != NULL && found > 0 && k < self->count; k++) {
        if (seen[k] && PySet_Add(result, PyTuple_GET_ITEM(self->anchors, k)) < 0)
            Py_CLEAR(result);
    }
    PyMem_Free(seen);
    return result;
}

static PyMethodDef index_methods[] = {
    {"present", (PyCFunction)index_present, METH_O,
     "present(text) -> frozenset[str]: the anchors that occur in text"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AnchorIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bastion.guards.injection._anchor_scan.AnchorIndex",
    .tp_basicsize = sizeof(AnchorIndex),
    .tp_dealloc = (destructor)index_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "AnchorIndex(anchors): which of the anchors (str, 2+ characters) occur in a text",
    .tp_methods = index_methods,
    .tp_init = (initproc)index_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_anchor_scan",
    "The injection rules' anchors present in a text (see rules.present_anchors).", -1, NULL,
};

PyMODINIT_FUNC PyInit__anchor_scan(void)
{
    if (PyType_Ready(&AnchorIndexType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    Py_INCREF(&AnchorIndexType);
    if (PyModule_AddObject(module, "AnchorIndex", (PyObject *)&AnchorIndexType) < 0) {
        Py_DECREF(&AnchorIndexType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
