/* The n-gram model's window logits in C: what window_scores.py computes, bit for bit.
 *
 * For each part (a piece of a text): lower-case it (str.lower), cut it into the character
 * 3-5-grams inside word boundaries and the word 1-2-grams that hashing.py cuts, hash each
 * n-gram's UTF-8 bytes with MurmurHash3 x86 32-bit (seed 0, as mmh3.hash), and keep the
 * part's distinct slots (abs(hash) % n_features) with their counts, in ascending order.
 * For each group of parts, and each half (characters, words): sum the members' counts in
 * order of first appearance, scale by 1 / sqrt(sum of squares), and add
 * (count * scale) * weight over the slots in reverse order of first appearance, one after
 * the other from 0.0 -- SciPy's order, as window_scores._dot does. A group's logit is
 * (characters + words) + bias.
 *
 * A lone surrogate (no UTF-8 for it) is hashed as U+FFFD, as hashing.py replaces it.
 * Build with -ffp-contract=off: a fused multiply-add would change the sums' last bits.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHAR_MIN_N 3
#define CHAR_MAX_N 5

/* ---- MurmurHash3 x86 32-bit (Austin Appleby, public domain), seed 0 ------------------- */

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static int32_t murmur3_32(const uint8_t *data, Py_ssize_t len)
{
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h1 = 0;
    Py_ssize_t nblocks = len / 4;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        uint32_t k1;
        memcpy(&k1, data + 4 * i, 4); /* little-endian hosts only: checked at import */
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64u;
    }
    const uint8_t *tail = data + nblocks * 4;
    uint32_t k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint32_t)len;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    return (int32_t)h1;
}

/* ---- growable arrays ------------------------------------------------------------------ */

typedef struct {
    int32_t *v;
    Py_ssize_t n, cap;
} IntVec;

static int vec_push(IntVec *a, int32_t x)
{
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? 2 * a->cap : 64;
        int32_t *v = PyMem_Realloc(a->v, (size_t)cap * sizeof(int32_t));
        if (v == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static void vec_free(IntVec *a)
{
    PyMem_Free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* ---- one part: UTF-8 bytes and code point offsets ------------------------------------- */

typedef struct {
    uint8_t *bytes;    /* UTF-8 of the lower-cased part (lone surrogates as U+FFFD) */
    Py_ssize_t *at;    /* at[i]: byte offset of code point i; at[len] = byte length */
    Py_UCS4 *cp;       /* the code points */
    Py_ssize_t len;    /* code points */
    Py_ssize_t cap;    /* code points the buffers hold, plus one */
    uint8_t *scratch;  /* for " " + word + " " and bigrams */
    Py_ssize_t scratch_cap;
} Text;

/* Room for ``len`` code points (and the offset past the last one), even when len is 0. */
static int text_reserve(Text *t, Py_ssize_t len)
{
    if (len < t->cap)
        return 0;
    PyMem_Free(t->bytes);
    PyMem_Free(t->at);
    PyMem_Free(t->cp);
    t->bytes = PyMem_Malloc(((size_t)len + 1) * 4);
    t->at = PyMem_Malloc(((size_t)len + 1) * sizeof(Py_ssize_t));
    t->cp = PyMem_Malloc(((size_t)len + 1) * sizeof(Py_UCS4));
    if (t->bytes == NULL || t->at == NULL || t->cp == NULL) {
        t->cap = 0;
        PyErr_NoMemory();
        return -1;
    }
    t->cap = len + 1;
    return 0;
}

static uint8_t *scratch(Text *t, Py_ssize_t size)
{
    if (size > t->scratch_cap) {
        uint8_t *s = PyMem_Realloc(t->scratch, (size_t)size);
        if (s == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        t->scratch = s;
        t->scratch_cap = size;
    }
    return t->scratch;
}

static void text_free(Text *t)
{
    PyMem_Free(t->bytes);
    PyMem_Free(t->at);
    PyMem_Free(t->cp);
    PyMem_Free(t->scratch);
    memset(t, 0, sizeof(*t));
}

static Py_ssize_t utf8(Py_UCS4 c, uint8_t *out)
{
    if (c < 0x80) {
        out[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (uint8_t)(0xc0 | (c >> 6));
        out[1] = (uint8_t)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c >= 0xd800 && c <= 0xdfff) /* a lone surrogate: as hashing.py, U+FFFD */
        c = 0xfffd;
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (c >> 12));
        out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (c >> 18));
    out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (c & 0x3f));
    return 4;
}

/* Lower-case ``part`` (str.lower) and fill ``t``. */
static int text_load(Text *t, PyObject *part)
{
    PyObject *lower = PyObject_CallMethod(part, "lower", NULL);
    if (lower == NULL)
        return -1;
    if (!PyUnicode_Check(lower)) {
        Py_DECREF(lower);
        PyErr_SetString(PyExc_TypeError, "str.lower() did not return a str");
        return -1;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(lower);
    if (text_reserve(t, len) < 0) {
        Py_DECREF(lower);
        return -1;
    }
    int kind = PyUnicode_KIND(lower);
    const void *data = PyUnicode_DATA(lower);
    Py_ssize_t b = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        t->cp[i] = c;
        t->at[i] = b;
        b += utf8(c, t->bytes + b);
    }
    t->at[len] = b;
    t->len = len;
    Py_DECREF(lower);
    return 0;
}

/* abs(hash) % n_features, as hashing.py; the hash itself when n_features is 0 (tests). */
static int32_t slot_of(int32_t hash, int32_t n_features)
{
    int64_t h = hash;
    if (n_features == 0)
        return hash;
    return (int32_t)((h < 0 ? -h : h) % n_features);
}

/* scikit-learn's _char_wb_ngrams: per whitespace-separated word w, " " + w + " ", its
 * n-grams for n in 3..5; a word no longer than n counts once, and ends the loop. */
static int char_grams(Text *t, int32_t n_features, IntVec *out)
{
    Py_ssize_t i = 0;
    while (i < t->len) {
        if (Py_UNICODE_ISSPACE(t->cp[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < t->len && !Py_UNICODE_ISSPACE(t->cp[i]))
            i++;
        /* w = " " + word + " ": its code points' byte offsets are at[start..i] shifted */
        Py_ssize_t wlen = i - start + 2;
        Py_ssize_t wbytes = t->at[i] - t->at[start] + 2;
        uint8_t *w = scratch(t, wbytes);
        if (w == NULL)
            return -1;
        w[0] = ' ';
        memcpy(w + 1, t->bytes + t->at[start], (size_t)(wbytes - 2));
        w[wbytes - 1] = ' ';
#define W_AT(k) ((k) == 0 ? 0 : (k) >= wlen ? wbytes : t->at[start + (k) - 1] - t->at[start] + 1)
        for (Py_ssize_t n = CHAR_MIN_N; n <= CHAR_MAX_N; n++) {
            Py_ssize_t offset = 0;
            Py_ssize_t end = n < wlen ? n : wlen;
            if (vec_push(out, slot_of(murmur3_32(w, W_AT(end)), n_features)) < 0)
                return -1;
            while (offset + n < wlen) {
                offset++;
                Py_ssize_t a = W_AT(offset), z = W_AT(offset + n);
                if (vec_push(out, slot_of(murmur3_32(w + a, z - a), n_features)) < 0)
                    return -1;
            }
            if (offset == 0)
                break;
        }
#undef W_AT
    }
    return 0;
}

/* re.findall(r"(?u)\b\w+\b") is the maximal runs of word characters (as _sre: alphanumeric
 * or "_"); then every token, and every two adjacent tokens joined by a space. */
static int word_grams(Text *t, int32_t n_features, int32_t offset, IntVec *out)
{
    Py_ssize_t i = 0, prev_start = -1, prev_end = -1;
    while (i < t->len) {
        Py_UCS4 c = t->cp[i];
        if (!(Py_UNICODE_ISALNUM(c) || c == '_')) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < t->len && (Py_UNICODE_ISALNUM(t->cp[i]) || t->cp[i] == '_'))
            i++;
        Py_ssize_t a = t->at[start], z = t->at[i];
        if (vec_push(out, slot_of(murmur3_32(t->bytes + a, z - a), n_features) + offset) < 0)
            return -1;
        if (prev_start >= 0) {
            Py_ssize_t pa = t->at[prev_start], pz = t->at[prev_end];
            Py_ssize_t size = (pz - pa) + 1 + (z - a);
            uint8_t *s = scratch(t, size);
            if (s == NULL)
                return -1;
            memcpy(s, t->bytes + pa, (size_t)(pz - pa));
            s[pz - pa] = ' ';
            memcpy(s + (pz - pa) + 1, t->bytes + a, (size_t)(z - a));
            if (vec_push(out, slot_of(murmur3_32(s, size), n_features) + offset) < 0)
                return -1;
        }
        prev_start = start;
        prev_end = i;
    }
    return 0;
}

/* Sort in place, ascending: quicksort (median of three) down to short runs, then one
 * insertion sort. No allocation (glibc's qsort mallocs a buffer on every call). */
static void sort_int32(int32_t *v, Py_ssize_t n)
{
    while (n > 16) {
        Py_ssize_t mid = n / 2, last = n - 1;
        if (v[mid] < v[0]) { int32_t t = v[mid]; v[mid] = v[0]; v[0] = t; }
        if (v[last] < v[0]) { int32_t t = v[last]; v[last] = v[0]; v[0] = t; }
        if (v[last] < v[mid]) { int32_t t = v[last]; v[last] = v[mid]; v[mid] = t; }
        int32_t pivot = v[mid];
        Py_ssize_t i = 0, j = last;
        for (;;) { /* Hoare partition: v[0..j] <= pivot <= v[j+1..] */
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            int32_t t = v[i]; v[i] = v[j]; v[j] = t;
            i++;
            j--;
        }
        /* recurse into the smaller side, loop on the larger: bounded stack depth */
        Py_ssize_t left = j + 1;
        if (left < n - left) {
            sort_int32(v, left);
            v += left;
            n -= left;
        } else {
            sort_int32(v + left, n - left);
            n = left;
        }
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        int32_t x = v[i];
        Py_ssize_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Append the distinct values of grams (sorted in place) and their counts to slots/counts. */
static int append_row(IntVec *grams, IntVec *slots, IntVec *counts)
{
    sort_int32(grams->v, grams->n);
    Py_ssize_t i = 0;
    while (i < grams->n) {
        Py_ssize_t j = i + 1;
        while (j < grams->n && grams->v[j] == grams->v[i])
            j++;
        if (vec_push(slots, grams->v[i]) < 0 || vec_push(counts, (int32_t)(j - i)) < 0)
            return -1;
        i = j;
    }
    grams->n = 0;
    return 0;
}

/* ---- one group: counts summed in order of first appearance ---------------------------- */

typedef struct {
    int32_t *table;   /* open addressing: index into slot/count, or -1 */
    Py_ssize_t mask;
    int32_t *slot;    /* in order of first appearance */
    int64_t *count;
    Py_ssize_t n, cap;
} Summed;

static int summed_reserve(Summed *s, Py_ssize_t entries)
{
    if (entries <= s->cap)
        return 0;
    Py_ssize_t size = 16;
    while (size < 2 * entries)
        size *= 2;
    PyMem_Free(s->table);
    PyMem_Free(s->slot);
    PyMem_Free(s->count);
    s->table = PyMem_Malloc((size_t)size * sizeof(int32_t));
    s->slot = PyMem_Malloc((size_t)entries * sizeof(int32_t));
    s->count = PyMem_Malloc((size_t)entries * sizeof(int64_t));
    if (s->table == NULL || s->slot == NULL || s->count == NULL) {
        s->cap = 0;
        PyErr_NoMemory();
        return -1;
    }
    memset(s->table, 0xff, (size_t)size * sizeof(int32_t));
    s->mask = size - 1;
    s->cap = entries;
    s->n = 0;
    return 0;
}

static void summed_add(Summed *s, int32_t slot, int64_t count)
{
    Py_ssize_t h = (Py_ssize_t)(((uint32_t)slot * 0x9e3779b1u) & (uint32_t)s->mask);
    while (s->table[h] >= 0) {
        if (s->slot[s->table[h]] == slot) {
            s->count[s->table[h]] += count;
            return;
        }
        h = (h + 1) & s->mask;
    }
    s->table[h] = (int32_t)s->n;
    s->slot[s->n] = slot;
    s->count[s->n] = count;
    s->n++;
}

/* The half's dot product, and the table emptied for the next sum. */
static double summed_dot(Summed *s, const float *weights)
{
    double total = 0.0;
    if (s->n > 0) {
        int64_t squares = 0;
        for (Py_ssize_t k = 0; k < s->n; k++)
            squares += s->count[k] * s->count[k];
        double scale = 1.0 / sqrt((double)squares);
        for (Py_ssize_t k = s->n - 1; k >= 0; k--) {
            double scaled = (double)s->count[k] * scale;
            total += scaled * (double)weights[s->slot[k]];
        }
    }
    for (Py_ssize_t k = 0; k < s->n; k++) { /* empty the table: only the used cells */
        Py_ssize_t h = (Py_ssize_t)(((uint32_t)s->slot[k] * 0x9e3779b1u) & (uint32_t)s->mask);
        while (s->table[h] >= 0) {
            s->table[h] = -1;
            h = (h + 1) & s->mask;
        }
    }
    s->n = 0;
    return total;
}

static void summed_free(Summed *s)
{
    PyMem_Free(s->table);
    PyMem_Free(s->slot);
    PyMem_Free(s->count);
    memset(s, 0, sizeof(*s));
}

/* ---- the function ---------------------------------------------------------------------- */

typedef struct {
    Text text;
    IntVec grams, slots, counts;
    Py_ssize_t *indptr; /* per part: chars row then words row, 2 * parts + 1 */
    Summed summed;
    PyObject *groups_fast;
} Work;

static void work_free(Work *w)
{
    text_free(&w->text);
    vec_free(&w->grams);
    vec_free(&w->slots);
    vec_free(&w->counts);
    PyMem_Free(w->indptr);
    summed_free(&w->summed);
    Py_XDECREF(w->groups_fast);
}

/* One half of one group: rows ``row`` (0 chars, 1 words) of the listed parts. */
static double group_half(Work *w, PyObject *members, int row, const float *weights)
{
    Py_ssize_t m = PySequence_Fast_GET_SIZE(members);
    PyObject **items = PySequence_Fast_ITEMS(members);
    for (Py_ssize_t k = 0; k < m; k++) {
        Py_ssize_t p = PyLong_AsSsize_t(items[k]); /* checked by the caller */
        Py_ssize_t a = w->indptr[2 * p + row], z = w->indptr[2 * p + row + 1];
        for (Py_ssize_t e = a; e < z; e++)
            summed_add(&w->summed, w->slots.v[e], w->counts.v[e]);
    }
    return summed_dot(&w->summed, weights);
}

static PyObject *window_logits(PyObject *module, PyObject *args)
{
    PyObject *parts_obj, *groups_obj, *weights_obj;
    double bias;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "OOOdn:window_logits", &parts_obj, &groups_obj, &weights_obj,
                          &bias, &n_features))
        return NULL;
    if (n_features <= 0 || n_features > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "n_features must be in 1..2**30");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(weights_obj, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (view.itemsize != 4 || view.format == NULL ||
        !(strcmp(view.format, "f") == 0 || strcmp(view.format, "<f") == 0 ||
          strcmp(view.format, "=f") == 0)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "weights must be a contiguous float32 buffer");
        return NULL;
    }
    if (view.len / 4 < 2 * n_features) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "weights must hold 2 * n_features float32s");
        return NULL;
    }
    const float *weights = (const float *)view.buf;
    PyObject *result = NULL;
    Work w;
    memset(&w, 0, sizeof(w));
    PyObject *parts = PySequence_Fast(parts_obj, "parts must be a sequence of str");
    if (parts == NULL)
        goto done;
    Py_ssize_t n_parts = PySequence_Fast_GET_SIZE(parts);
    w.indptr = PyMem_Malloc(((size_t)n_parts * 2 + 1) * sizeof(Py_ssize_t));
    if (w.indptr == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    w.indptr[0] = 0;
    for (Py_ssize_t p = 0; p < n_parts; p++) {
        PyObject *part = PySequence_Fast_GET_ITEM(parts, p);
        if (!PyUnicode_Check(part)) {
            PyErr_SetString(PyExc_TypeError, "parts must be a sequence of str");
            goto done;
        }
        if (text_load(&w.text, part) < 0 ||
            char_grams(&w.text, (int32_t)n_features, &w.grams) < 0 ||
            append_row(&w.grams, &w.slots, &w.counts) < 0)
            goto done;
        w.indptr[2 * p + 1] = w.slots.n;
        if (word_grams(&w.text, (int32_t)n_features, (int32_t)n_features, &w.grams) < 0 ||
            append_row(&w.grams, &w.slots, &w.counts) < 0)
            goto done;
        w.indptr[2 * p + 2] = w.slots.n;
    }
    w.groups_fast = PySequence_Fast(groups_obj, "groups must be a sequence of sequences");
    if (w.groups_fast == NULL)
        goto done;
    Py_ssize_t n_groups = PySequence_Fast_GET_SIZE(w.groups_fast);
    result = PyList_New(n_groups);
    if (result == NULL)
        goto done;
    for (Py_ssize_t g = 0; g < n_groups; g++) {
        PyObject *members = PySequence_Fast(PySequence_Fast_GET_ITEM(w.groups_fast, g),
                                            "groups must be a sequence of sequences");
        if (members == NULL)
            goto fail;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(members), entries = 0;
        for (Py_ssize_t k = 0; k < m; k++) {
            Py_ssize_t p = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(members, k));
            if (p == -1 && PyErr_Occurred()) {
                Py_DECREF(members);
                goto fail;
            }
            if (p < 0 || p >= n_parts) {
                Py_DECREF(members);
                PyErr_SetString(PyExc_IndexError, "a group lists a part that does not exist");
                goto fail;
            }
            entries += w.indptr[2 * p + 2] - w.indptr[2 * p];
        }
        if (summed_reserve(&w.summed, entries) < 0) {
            Py_DECREF(members);
            goto fail;
        }
        double chars = group_half(&w, members, 0, weights);
        double words = group_half(&w, members, 1, weights);
        Py_DECREF(members);
        PyObject *logit = PyFloat_FromDouble((chars + words) + bias);
        if (logit == NULL)
            goto fail;
        PyList_SET_ITEM(result, g, logit);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    Py_XDECREF(parts);
    work_free(&w);
    PyBuffer_Release(&view);
    return result;
}

/* The slot of each n-gram of ``text`` (its signed MurmurHash3 when n_features is 0), in
 * the order hashing.py lists them: for the tests, which compare it with mmh3 over
 * NgramHasher.grams. */
static PyObject *gram_slots(PyObject *module, PyObject *args)
{
    PyObject *text;
    int words;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "Upn:gram_slots", &text, &words, &n_features))
        return NULL;
    if (n_features < 0 || n_features > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "n_features must be in 0..2**30");
        return NULL;
    }
    Text t;
    IntVec grams;
    memset(&t, 0, sizeof(t));
    memset(&grams, 0, sizeof(grams));
    PyObject *result = NULL;
    int failed = text_load(&t, text) < 0 ||
                 (words ? word_grams(&t, (int32_t)n_features, 0, &grams)
                        : char_grams(&t, (int32_t)n_features, &grams)) < 0;
    if (!failed) {
        result = PyList_New(grams.n);
        for (Py_ssize_t i = 0; result != NULL && i < grams.n; i++) {
            PyObject *x = PyLong_FromLong(grams.v[i]);
            if (x == NULL)
                Py_CLEAR(result);
            else
                PyList_SET_ITEM(result, i, x);
        }
    }
    text_free(&t);
    vec_free(&grams);
    return result;
}

static PyMethodDef methods[] = {
    {"window_logits", window_logits, METH_VARARGS,
     "window_logits(parts, groups, weights, bias, n_features) -> list[float]"},
    {"gram_slots", gram_slots, METH_VARARGS,
     "gram_slots(text, words, n_features) -> list[int]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_window_logits",
    "The injection screen's n-gram window logits (see window_scores.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__window_logits(void)
{
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) { /* murmur3_32 reads blocks little-endian */
        PyErr_SetString(PyExc_ImportError, "_window_logits needs a little-endian host");
        return NULL;
    }
    return PyModule_Create(&module_def);
}
