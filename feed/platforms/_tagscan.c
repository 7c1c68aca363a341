/* The compiled twin of `html_tags._elements_find`: the same Element list, with the same
 * offsets, for every input. It is optional: html_tags.py falls back to its Python loop, which
 * stays the reference this is tested against (tests/feed/test_html_tags_compiled.py). The
 * rules are the Python module's; read its docstrings first, this file only says how.
 *
 * Why C: the Python loop's skipping patterns already run in C, yet the ~10,000 tags of a
 * 1.35 MB Reddit page still cost ~7 ms of pattern calls and Python steps (74 M instructions);
 * one pass over the characters here reads the same tokens in ~2.4 ms (26 M), attributes and
 * Elements included. Python is still called where it is rare and where its
 * exact behaviour is the rule: the caller's attribute hint (an `re.Pattern`), the raw-text end
 * patterns (`re.IGNORECASE` also folds a few non-ASCII letters), `str.lower()` of non-ASCII
 * tag names, and the `Attributes` class, given what `tag_attributes_parse` would give it.
 *
 * Every search moves forward: a quote that never closes is looked for once (`quote_next`); an
 * unterminated comment, declaration or tag runs to the end, so hostile input costs linear
 * time, as the Python patterns do.
 *
 * Built in place by `make install` (feed/platforms/tagscan_build.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Set once by `configure` (html_tags.py passes its own classes and patterns). */
static PyObject *tag_type, *element_type, *attributes_type, *raw_text_ends, *void_names;

/* ---- the source string ---------------------------------------------------------------- */

typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    Py_ssize_t length;
    /* For `quote_next`, per quote ("\"" then "'"): no such quote in [from, at), and `at` holds
     * one or is the length. */
    Py_ssize_t quote_from[2], quote_at[2];
} Source;

#define READ(source, index) PyUnicode_READ((source)->kind, (source)->data, (index))
#define READ_AS(kind, source, index) PyUnicode_READ((kind), (source)->data, (index))
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE __attribute__((always_inline))
#else
#define ALWAYS_INLINE
#endif

static int
is_space(Py_UCS4 c) /* the whitespace that ends a tag name (`_S`) */
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int
is_ascii_letter(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The first `c` in [from, stop), or `stop`. CPython's own search: memchr and friends. */
static Py_ssize_t
char_find(const Source *source, Py_UCS4 c, Py_ssize_t from, Py_ssize_t stop)
{
    if (from >= stop)
        return stop;
    Py_ssize_t found = PyUnicode_FindChar(source->text, c, from, stop, 1);
    return found < 0 ? stop : found; /* -2 (an error) cannot happen on a ready str */
}

/* The first `quote` at or after `from`, or the length. A quote that never closes would
 * otherwise be looked for again at every later `="` of the page. */
static Py_ssize_t
quote_next(Source *source, Py_UCS4 quote, Py_ssize_t from)
{
    int which = quote == '\'';
    if (from >= source->quote_from[which] && from <= source->quote_at[which])
        return source->quote_at[which];
    source->quote_from[which] = from;
    source->quote_at[which] = char_find(source, quote, from, source->length);
    return source->quote_at[which];
}

/* ---- reading tokens as `_TOKEN` does ------------------------------------------------------ */

typedef struct {
    Py_ssize_t start, name_start, name_end, end;
    int closing;
    int complete; /* 0: cut off by the end of the source (the scan stops) */
} TagToken;

/* Just after the comment that starts at `start` (`<!--`): `<!-->`, `<!--->`, else the first
 * `-->` or `--!>`, else the end. The earliest `--!?>` is the one whose `>` comes first. */
static inline ALWAYS_INLINE Py_ssize_t
comment_end(const Source *source, Py_ssize_t start, int kind)
{
    Py_ssize_t n = source->length, rest = start + 4, gt;
    if (rest < n && READ_AS(kind, source, rest) == '>')
        return rest + 1;
    if (rest + 1 < n && READ_AS(kind, source, rest) == '-' && READ_AS(kind, source, rest + 1) == '>')
        return rest + 2;
    for (gt = char_find(source, '>', rest + 2, n); gt < n; gt = char_find(source, '>', gt + 1, n)) {
        if (READ_AS(kind, source, gt - 1) == '-' && READ_AS(kind, source, gt - 2) == '-')
            return gt + 1;
        if (gt - 3 >= rest && READ_AS(kind, source, gt - 1) == '!' && READ_AS(kind, source, gt - 2) == '-' &&
            READ_AS(kind, source, gt - 3) == '-')
            return gt + 1;
    }
    return n;
}

/* From the tag name's end: the body up to the first `>` outside a value quoted right after
 * `=` (and spaces) that closes; any other quote is a plain character. */
static inline ALWAYS_INLINE void
tag_body_read(Source *source, TagToken *tag, int kind)
{
    Py_ssize_t n = source->length;
    for (Py_ssize_t at = tag->name_end; at < n; at++) {
        Py_UCS4 c = READ_AS(kind, source, at);
        if (c == '>') {
            tag->end = at + 1;
            tag->complete = 1;
            return;
        }
        if (c != '=')
            continue;
        Py_ssize_t value = at + 1;
        while (value < n && is_space(READ_AS(kind, source, value)))
            value++;
        Py_UCS4 quote = value < n ? READ_AS(kind, source, value) : 0;
        if (quote == '"' || quote == '\'') {
            Py_ssize_t close = quote_next(source, quote, value + 1);
            if (close < n) /* a quoted value, `>` and all */
                at = close;
        }
    }
    tag->end = n; /* no `>` left: the tag runs to the end */
    tag->complete = 0;
}

/* The next start or end tag from `position` on, passing over text, comments, declarations
 * and `<` that start no tag. 0 when none is left. */
static inline ALWAYS_INLINE int
tag_next_as(Source *source, Py_ssize_t position, TagToken *tag, int kind)
{
    Py_ssize_t n = source->length;
    for (;;) {
        Py_ssize_t start = char_find(source, '<', position, n), name;
        if (start + 1 >= n)
            return 0; /* no `<`, or a last one that starts nothing */
        Py_UCS4 next = READ_AS(kind, source, start + 1);
        if (is_ascii_letter(next)) {
            tag->closing = 0;
            name = start + 1;
        }
        else if (next == '/' && start + 2 < n && is_ascii_letter(READ_AS(kind, source, start + 2))) {
            tag->closing = 1;
            name = start + 2;
        }
        else if (next == '!' && start + 3 < n && READ_AS(kind, source, start + 2) == '-' &&
                 READ_AS(kind, source, start + 3) == '-') {
            position = comment_end(source, start, kind);
            continue;
        }
        else if (next == '!' || next == '?') { /* a declaration, to its `>` or the end */
            Py_ssize_t gt = char_find(source, '>', start + 2, n);
            position = gt < n ? gt + 1 : n;
            continue;
        }
        else {
            position = start + 1;
            continue;
        }
        tag->start = start;
        tag->name_start = name;
        for (name++; name < n; name++) {
            Py_UCS4 c = READ_AS(kind, source, name);
            if (is_space(c) || c == '/' || c == '>')
                break;
        }
        tag->name_end = name;
        tag_body_read(source, tag, kind);
        return 1;
    }
}

/* `tag_next` compiled once per width of str, so that no character read asks for the width
 * (~10% of the scan's instructions on the real page). */
static int
tag_next(Source *source, Py_ssize_t position, TagToken *tag)
{
    switch (source->kind) {
    case PyUnicode_1BYTE_KIND:
        return tag_next_as(source, position, tag, PyUnicode_1BYTE_KIND);
    case PyUnicode_2BYTE_KIND:
        return tag_next_as(source, position, tag, PyUnicode_2BYTE_KIND);
    default:
        return tag_next_as(source, position, tag, PyUnicode_4BYTE_KIND);
    }
}

/* ---- the names that matter -------------------------------------------------------------- */

enum { WANTED = 1, VOID = 2, TEMPLATE = 4 };

typedef struct {
    Py_UCS4 *key; /* lower-cased, as the Python loop compares names */
    Py_ssize_t length;
    size_t hash;
    PyObject *name; /* the same as a str (owned): Tag.name */
    PyObject *raw_end; /* this raw-text element's end pattern (borrowed), or NULL */
    int flags;
    Py_ssize_t open; /* recorded elements of this name still open (`tracked`) */
} Name;

/* Every name the loop compares with: `names_wanted`, "template", the raw-text and void
 * elements, and the names of recorded elements. A tag whose name is not here changes nothing
 * unless the hint matches in it. Open addressing over `slots` (indexes into `names`, -1 empty). */
typedef struct {
    Name *names;
    Py_ssize_t count, capacity;
    Py_ssize_t *slots;
    Py_ssize_t slot_count; /* a power of two, at least twice `count` */
    Py_UCS4 *scratch; /* the lower-cased name being looked up */
    Py_ssize_t scratch_length, scratch_capacity;
    /* Which (length, first character) pairs the names have, 64 x 64 bits: most tags of a page
     * are told apart by this alone, without hashing their name. */
    uint64_t shapes[64];
} Names;

static int
names_may_hold(const Names *names, const Py_UCS4 *key, Py_ssize_t length)
{
    uint64_t bit = (uint64_t)1 << (length ? key[0] & 63 : 0);
    return (names->shapes[length & 63] & bit) != 0;
}

static int
grow(void **items, Py_ssize_t *capacity, Py_ssize_t needed, size_t item_size)
{
    if (needed <= *capacity)
        return 0;
    Py_ssize_t bigger = *capacity ? *capacity : 16;
    while (bigger < needed)
        bigger *= 2;
    void *moved = PyMem_Realloc(*items, (size_t)bigger * item_size);
    if (moved == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *items = moved;
    *capacity = bigger;
    return 0;
}

/* Python's own keyed string hash (SipHash, seeded per process), not a fixed one such as FNV: a
 * page cannot be made of recorded names that all fall into one run of slots. */
#if PY_VERSION_HEX >= 0x030E0000
#define HASH_BYTES Py_HashBuffer
#else
#define HASH_BYTES _Py_HashBytes
#endif

static size_t
key_hash(const Py_UCS4 *key, Py_ssize_t length)
{
    return (size_t)HASH_BYTES(key, length * (Py_ssize_t)sizeof(Py_UCS4));
}

/* The scratch holds the lower-cased name; its index in `names`, or -1. */
static Py_ssize_t
names_lookup(const Names *names)
{
    if (names->slot_count == 0 || !names_may_hold(names, names->scratch, names->scratch_length))
        return -1;
    size_t hash = key_hash(names->scratch, names->scratch_length);
    size_t mask = (size_t)names->slot_count - 1, slot = hash & mask;
    for (;; slot = (slot + 1) & mask) {
        Py_ssize_t index = names->slots[slot];
        if (index < 0)
            return -1;
        const Name *name = &names->names[index];
        if (name->hash == hash && name->length == names->scratch_length &&
            memcmp(name->key, names->scratch, (size_t)name->length * sizeof(Py_UCS4)) == 0)
            return index;
    }
}

static int
scratch_reserve(Names *names, Py_ssize_t length)
{
    /* One more than needed: never an empty buffer, which PyUnicode_AsUCS4 refuses. */
    return grow((void **)&names->scratch, &names->scratch_capacity, length + 1,
                sizeof(Py_UCS4));
}

/* The scratch := the code points of a str. */
static int
scratch_from_str(Names *names, PyObject *text)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (scratch_reserve(names, length) < 0)
        return -1;
    if (PyUnicode_AsUCS4(text, names->scratch, length + 1, 0) == NULL)
        return -1;
    names->scratch_length = length;
    return 0;
}

/* The scratch := source[start:stop].lower(): ASCII here, anything else by `str.lower()`,
 * which may change a character whatever surrounds it (the Kelvin sign becomes `k`). */
static int
scratch_from_name(Names *names, const Source *source, Py_ssize_t start, Py_ssize_t stop)
{
    Py_ssize_t length = stop - start;
    if (scratch_reserve(names, length) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = READ(source, start + i);
        if (c >= 128) {
            PyObject *raw = PyUnicode_Substring(source->text, start, stop), *lower;
            if (raw == NULL)
                return -1;
            lower = PyObject_CallMethod(raw, "lower", NULL);
            Py_DECREF(raw);
            if (lower == NULL)
                return -1;
            int failed = scratch_from_str(names, lower);
            Py_DECREF(lower);
            return failed;
        }
        names->scratch[i] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    }
    names->scratch_length = length;
    return 0;
}

/* The scratch's name, added if new; its index, or -1 on error. */
static Py_ssize_t
names_add(Names *names, PyObject *name_str)
{
    Py_ssize_t index = names_lookup(names);
    if (index >= 0)
        return index;
    if (2 * (names->count + 1) > names->slot_count) {
        Py_ssize_t slot_count = names->slot_count ? names->slot_count * 2 : 64;
        Py_ssize_t *slots = PyMem_Malloc((size_t)slot_count * sizeof(Py_ssize_t));
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < slot_count; i++)
            slots[i] = -1;
        for (Py_ssize_t i = 0; i < names->count; i++) {
            size_t slot = names->names[i].hash & (size_t)(slot_count - 1);
            while (slots[slot] >= 0)
                slot = (slot + 1) & (size_t)(slot_count - 1);
            slots[slot] = i;
        }
        PyMem_Free(names->slots);
        names->slots = slots;
        names->slot_count = slot_count;
    }
    if (grow((void **)&names->names, &names->capacity, names->count + 1, sizeof(Name)) < 0)
        return -1;
    Py_UCS4 *key = PyMem_Malloc((size_t)(names->scratch_length ? names->scratch_length : 1) *
                                sizeof(Py_UCS4));
    if (key == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(key, names->scratch, (size_t)names->scratch_length * sizeof(Py_UCS4));
    if (name_str == NULL)
        name_str = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, key, names->scratch_length);
    else
        Py_INCREF(name_str);
    if (name_str == NULL) {
        PyMem_Free(key);
        return -1;
    }
    index = names->count++;
    size_t hash = key_hash(key, names->scratch_length);
    names->names[index] = (Name){key, names->scratch_length, hash, name_str, NULL, 0, 0};
    names->shapes[names->scratch_length & 63] |= (uint64_t)1
                                                  << (names->scratch_length ? key[0] & 63 : 0);
    size_t mask = (size_t)names->slot_count - 1, slot = hash & mask;
    while (names->slots[slot] >= 0)
        slot = (slot + 1) & mask;
    names->slots[slot] = index;
    return index;
}

/* Add a str (a name as given, not lower-cased: the Python loop compares with it as it is). */
static Py_ssize_t
names_add_str(Names *names, PyObject *name, int flags)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "element names must be str");
        return -1;
    }
    if (scratch_from_str(names, name) < 0)
        return -1;
    Py_ssize_t index = names_add(names, name);
    if (index >= 0)
        names->names[index].flags |= flags;
    return index;
}

static int
names_add_all(Names *names, PyObject *collection, int flags)
{
    PyObject *iterator = PyObject_GetIter(collection), *name;
    if (iterator == NULL)
        return -1;
    while ((name = PyIter_Next(iterator)) != NULL) {
        Py_ssize_t index = names_add_str(names, name, flags);
        Py_DECREF(name);
        if (index < 0) {
            Py_DECREF(iterator);
            return -1;
        }
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

/* The names of one call: `names_wanted`, "template", the raw-text and the void elements. */
static int
names_fill(Names *names, PyObject *names_wanted)
{
    PyObject *template_name = PyUnicode_FromString("template"), *name, *pattern;
    if (template_name == NULL)
        return -1;
    Py_ssize_t index = names_add_str(names, template_name, TEMPLATE);
    Py_DECREF(template_name);
    if (index < 0 || names_add_all(names, names_wanted, WANTED) < 0 ||
        names_add_all(names, void_names, VOID) < 0)
        return -1;
    Py_ssize_t position = 0;
    while (PyDict_Next(raw_text_ends, &position, &name, &pattern)) {
        index = names_add_str(names, name, 0);
        if (index < 0)
            return -1;
        names->names[index].raw_end = pattern;
    }
    return 0;
}

static void
names_free(Names *names)
{
    for (Py_ssize_t i = 0; i < names->count; i++) {
        PyMem_Free(names->names[i].key);
        Py_DECREF(names->names[i].name);
    }
    PyMem_Free(names->names);
    PyMem_Free(names->slots);
    PyMem_Free(names->scratch);
}

/* ---- the scan ---------------------------------------------------------------------------- */

typedef struct { /* a recorded element, until the Element is made */
    Py_ssize_t start, end, name_end, name, parent, close_start, close_end;
    int in_template;
} Record;

typedef struct { /* a recorded element still open (`_Open`) */
    Py_ssize_t record, name;
    PyObject *same_names; /* name str -> int, made at the first namesake (`same_names`) */
} Open;

typedef struct {
    Source source;
    Names names;
    PyObject *hint_search;
    Py_UCS4 *hint_literal; /* what every match of the hint starts with, or NULL (unknown) */
    Py_ssize_t hint_literal_length;
    Record *records;
    Py_ssize_t record_count, record_capacity;
    Open *stack;
    Py_ssize_t stack_count, stack_capacity;
} Scan;

/* `_pop_to`: close the open elements above `size`. */
static void
stack_pop_to(Scan *scan, Py_ssize_t size, Py_ssize_t close_start, Py_ssize_t close_end)
{
    while (scan->stack_count > size) {
        Open *popped = &scan->stack[--scan->stack_count];
        scan->names.names[popped->name].open--;
        scan->records[popped->record].close_start = close_start;
        scan->records[popped->record].close_end = close_end;
        Py_CLEAR(popped->same_names);
    }
}

/* `_close`: an end tag whose name is open. */
static int
end_tag_apply(Scan *scan, Py_ssize_t name, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *name_str = scan->names.names[name].name;
    for (Py_ssize_t position = scan->stack_count - 1; position >= 0; position--) {
        Open *entry = &scan->stack[position];
        if (entry->same_names != NULL) {
            PyObject *count = PyDict_GetItemWithError(entry->same_names, name_str);
            if (count == NULL && PyErr_Occurred())
                return -1;
            Py_ssize_t inside = count == NULL ? 0 : PyLong_AsSsize_t(count);
            if (inside > 0) { /* an unrecorded namesake opened inside this entry */
                PyObject *less = PyLong_FromSsize_t(inside - 1);
                if (less == NULL || PyDict_SetItem(entry->same_names, name_str, less) < 0) {
                    Py_XDECREF(less);
                    return -1;
                }
                Py_DECREF(less);
                stack_pop_to(scan, position + 1, start, start);
                return 0;
            }
        }
        if (entry->name == name) {
            stack_pop_to(scan, position + 1, start, start);
            stack_pop_to(scan, position, start, end);
            return 0;
        }
    }
    return 0; /* not reached: the name is open */
}

/* An unrecorded start tag sharing an open recorded element's name, inside the innermost. */
static int
namesake_count(Scan *scan, Py_ssize_t name)
{
    Open *top = &scan->stack[scan->stack_count - 1];
    PyObject *name_str = scan->names.names[name].name;
    if (top->same_names == NULL && (top->same_names = PyDict_New()) == NULL)
        return -1;
    PyObject *count = PyDict_GetItemWithError(top->same_names, name_str);
    if (count == NULL && PyErr_Occurred())
        return -1;
    PyObject *more = PyLong_FromSsize_t((count == NULL ? 0 : PyLong_AsSsize_t(count)) + 1);
    if (more == NULL)
        return -1;
    int failed = PyDict_SetItem(top->same_names, name_str, more);
    Py_DECREF(more);
    return failed;
}

/* Where `search(source, from)` matches next (`match.start()`), or the length. */
static int
hint_next(Scan *scan, Py_ssize_t from, Py_ssize_t *found)
{
    PyObject *match = PyObject_CallFunction(scan->hint_search, "On", scan->source.text, from);
    if (match == NULL)
        return -1;
    if (match == Py_None) {
        *found = scan->source.length;
        Py_DECREF(match);
        return 0;
    }
    PyObject *start = PyObject_CallMethod(match, "start", NULL);
    Py_DECREF(match);
    if (start == NULL)
        return -1;
    *found = PyLong_AsSsize_t(start);
    Py_DECREF(start);
    return *found == -1 && PyErr_Occurred() ? -1 : 0;
}

/* Whether `search(source, start, end)` matches: 1, 0, or -1 on error. */
static int
hint_in(Scan *scan, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *match =
        PyObject_CallFunction(scan->hint_search, "Onn", scan->source.text, start, end);
    if (match == NULL)
        return -1;
    int found = match != Py_None;
    Py_DECREF(match);
    return found;
}

/* Whether the hint's literal start occurs whole in [start, stop): a start tag without it holds
 * no match, whatever the hint is. */
static int
hint_literal_in(const Scan *scan, Py_ssize_t start, Py_ssize_t stop)
{
    const Source *source = &scan->source;
    Py_ssize_t length = scan->hint_literal_length, last = stop - length;
    for (Py_ssize_t at = char_find(source, scan->hint_literal[0], start, last + 1); at <= last;
         at = char_find(source, scan->hint_literal[0], at + 1, last + 1)) {
        Py_ssize_t i = 1;
        while (i < length && READ(source, at + i) == scan->hint_literal[i])
            i++;
        if (i == length)
            return 1;
    }
    return 0;
}

/* Where the raw-text element's end tag starts (the pattern's `search`), or -1 when it has
 * none; -2 on error. */
static Py_ssize_t
raw_text_end(Scan *scan, PyObject *pattern, Py_ssize_t from)
{
    PyObject *match = PyObject_CallMethod(pattern, "search", "On", scan->source.text, from);
    if (match == NULL)
        return -2;
    if (match == Py_None) {
        Py_DECREF(match);
        return -1;
    }
    PyObject *start = PyObject_CallMethod(match, "start", NULL);
    Py_DECREF(match);
    if (start == NULL)
        return -2;
    Py_ssize_t found = PyLong_AsSsize_t(start);
    Py_DECREF(start);
    return found == -1 && PyErr_Occurred() ? -2 : found;
}

/* A start tag the loop records (`Element`), pushed if it is not void. */
static int
start_tag_record(Scan *scan, const TagToken *tag, Py_ssize_t name, int templates)
{
    if (grow((void **)&scan->records, &scan->record_capacity, scan->record_count + 1,
             sizeof(Record)) < 0)
        return -1;
    Py_ssize_t parent = scan->stack_count ? scan->stack[scan->stack_count - 1].record : -1;
    Py_ssize_t record = scan->record_count++;
    scan->records[record] = (Record){tag->start, tag->end, tag->name_end, name, parent, -1, -1,
                                     templates > 0};
    if (scan->names.names[name].flags & VOID) {
        scan->records[record].close_start = scan->records[record].close_end = tag->end;
        return 0;
    }
    if (grow((void **)&scan->stack, &scan->stack_capacity, scan->stack_count + 1,
             sizeof(Open)) < 0)
        return -1;
    scan->stack[scan->stack_count++] = (Open){record, name, NULL};
    scan->names.names[name].open++;
    return 0;
}

/* The loop of `_elements_find(..., skip=False)`, which asks the hint about every start tag not
 * named in `names_wanted` (`search(source, name_end, end)`). Only the tags that may hold a
 * match are asked here: with the hint's literal start, those that hold it; without, those
 * ending past the hint's next match in the whole source (searched again only once a start tag
 * is past it): a tag the hint matches in holds a match of the whole source
 * (`html_elements_find`'s condition on hints). */
static int
scan_run(Scan *scan)
{
    Source *source = &scan->source;
    Names *names = &scan->names;
    Py_ssize_t position = 0, hint_at = -1;
    int templates = 0;
    TagToken tag;
    while (tag_next(source, position, &tag)) {
        if (!tag.complete)
            break; /* a tag cut off by the end of the document is dropped */
        position = tag.end;
        if (scratch_from_name(names, source, tag.name_start, tag.name_end) < 0)
            return -1;
        Py_ssize_t name = names_lookup(names);
        const Name *known = name >= 0 ? &names->names[name] : NULL;
        if (tag.closing) {
            if (known && (known->flags & TEMPLATE) && templates)
                templates--;
            if (known && known->open && end_tag_apply(scan, name, tag.start, tag.end) < 0)
                return -1;
            continue;
        }
        int recorded = known && (known->flags & WANTED);
        if (!recorded && scan->hint_literal) {
            if (hint_literal_in(scan, tag.name_end, tag.end) &&
                (recorded = hint_in(scan, tag.name_end, tag.end)) < 0)
                return -1;
        }
        else if (!recorded) {
            if (hint_at < tag.name_end && hint_next(scan, tag.name_end, &hint_at) < 0)
                return -1;
            if (hint_at < tag.end && (recorded = hint_in(scan, tag.name_end, tag.end)) < 0)
                return -1;
        }
        if (recorded) {
            if (name < 0) {
                if ((name = names_add(names, NULL)) < 0)
                    return -1;
            }
            if (start_tag_record(scan, &tag, name, templates) < 0)
                return -1;
            known = &names->names[name]; /* `names_add` may have moved the table */
        }
        else if (known && known->open && !(known->flags & VOID)) {
            if (namesake_count(scan, name) < 0)
                return -1;
        }
        if (known && (known->flags & TEMPLATE))
            templates++;
        else if (known && known->raw_end) { /* its text is not markup: resume at its end tag */
            Py_ssize_t raw_end = raw_text_end(scan, known->raw_end, tag.end);
            if (raw_end == -2)
                return -1;
            if (raw_end == -1)
                break;
            position = raw_end;
        }
    }
    stack_pop_to(scan, 0, source->length, source->length); /* still open at the end */
    return 0;
}

/* ---- attributes, as `tag_attributes_parse` reads them ------------------------------------- */

typedef struct {
    PyObject *name, *value; /* owned */
} Attribute;

typedef struct {
    Attribute *items;
    Py_ssize_t count, capacity;
} Attributes;

static void
attributes_clear(Attributes *attributes)
{
    for (Py_ssize_t i = 0; i < attributes->count; i++) {
        Py_DECREF(attributes->items[i].name);
        Py_DECREF(attributes->items[i].value);
    }
    attributes->count = 0;
}

static int
is_attribute_name_end(Py_UCS4 c) /* what `[^\t\n\f\r />=]` stops at */
{
    return is_space(c) || c == '/' || c == '>' || c == '=';
}

/* `_ATTRIBUTE.findall(source, start, stop)`: each name, and its value as written ("" for a bare
 * name): quoted if the quote closes before `stop`, else bare up to a space or `>`. */
static int
attributes_read(Source *source, Py_ssize_t start, Py_ssize_t stop, Attributes *attributes)
{
    Py_ssize_t at = start;
    while (at < stop) {
        Py_UCS4 c = READ(source, at);
        if (is_attribute_name_end(c) || c == '"' || c == '\'') {
            at++; /* no name starts here */
            continue;
        }
        Py_ssize_t name_start = at, value_start = -1, value_end = -1, next;
        for (at++; at < stop && !is_attribute_name_end(READ(source, at)); at++)
            ;
        Py_ssize_t name_end = at;
        for (next = at; next < stop && is_space(READ(source, next)); next++)
            ;
        if (next < stop && READ(source, next) == '=') {
            for (next++; next < stop && is_space(READ(source, next)); next++)
                ;
            value_start = next;
            Py_UCS4 quote = next < stop ? READ(source, next) : 0;
            if (quote == '"' || quote == '\'') {
                Py_ssize_t close = quote_next(source, quote, next + 1);
                if (close < stop)
                    value_end = close + 1;
            }
            if (value_end < 0) { /* bare, or a quote that does not close in the tag */
                for (value_end = next; value_end < stop; value_end++) {
                    Py_UCS4 v = READ(source, value_end);
                    if (is_space(v) || v == '>')
                        break;
                }
            }
            at = value_end;
        }
        if (grow((void **)&attributes->items, &attributes->capacity, attributes->count + 1,
                 sizeof(Attribute)) < 0)
            return -1;
        PyObject *name = PyUnicode_Substring(source->text, name_start, name_end);
        if (name == NULL)
            return -1;
        PyObject *value = value_start < 0 ? PyUnicode_New(0, 0)
                                          : PyUnicode_Substring(source->text, value_start,
                                                                value_end);
        if (value == NULL) {
            Py_DECREF(name);
            return -1;
        }
        attributes->items[attributes->count++] = (Attribute){name, value};
    }
    return 0;
}

/* Whether `lower()` changes the name (ASCII capitals are looked for here). 1, 0, -1. */
static int
name_changes_lower(PyObject *name)
{
    if (PyUnicode_IS_ASCII(name)) {
        const Py_UCS1 *c = PyUnicode_1BYTE_DATA(name);
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(name); i++)
            if (c[i] >= 'A' && c[i] <= 'Z')
                return 1;
        return 0;
    }
    PyObject *lower = PyObject_CallMethod(name, "lower", NULL);
    if (lower == NULL)
        return -1;
    int changes = PyUnicode_Compare(lower, name) != 0;
    Py_DECREF(lower);
    return changes;
}

/* `tag_attributes_parse`: the dict built back to front, so the first occurrence of a name
 * wins and the order is Python's; names lower-cased only if one of them changes. */
static PyObject *
attributes_make(Attributes *attributes)
{
    int lower = 0;
    for (Py_ssize_t i = 0; i < attributes->count && !lower; i++)
        if ((lower = name_changes_lower(attributes->items[i].name)) < 0)
            return NULL;
    PyObject *raw = PyDict_New();
    if (raw == NULL)
        return NULL;
    for (Py_ssize_t i = attributes->count - 1; i >= 0; i--) {
        PyObject *name = attributes->items[i].name;
        name = lower ? PyObject_CallMethod(name, "lower", NULL) : Py_NewRef(name);
        if (name == NULL || PyDict_SetItem(raw, name, attributes->items[i].value) < 0) {
            Py_XDECREF(name);
            Py_DECREF(raw);
            return NULL;
        }
        Py_DECREF(name);
    }
    PyObject *made = PyObject_CallOneArg(attributes_type, raw);
    Py_DECREF(raw);
    return made;
}

/* ---- the result ---------------------------------------------------------------------------- */

/* One Element, made by the Python classes. */
static PyObject *
element_make(Scan *scan, const Record *record, Attributes *attributes)
{
    PyObject *tag = NULL, *made = NULL, *element = NULL;
    attributes_clear(attributes);
    if (attributes_read(&scan->source, record->name_end, record->end - 1, attributes) < 0 ||
        (made = attributes_make(attributes)) == NULL)
        goto done;
    tag = PyObject_CallFunction(tag_type, "nnOOn", record->start, record->end,
                                scan->names.names[record->name].name, Py_False,
                                record->name_end);
    if (tag == NULL)
        goto done;
    element = PyObject_CallFunction(element_type, "OOnOnn", tag, made, record->parent,
                                    record->in_template ? Py_True : Py_False, record->close_start,
                                    record->close_end);
done:
    Py_XDECREF(tag);
    Py_XDECREF(made);
    return element;
}

static PyObject *
elements_build(Scan *scan)
{
    Attributes attributes = {0};
    PyObject *elements = PyList_New(scan->record_count);
    /* The attribute phase reads forward again from the first tag. */
    scan->source.quote_from[0] = scan->source.quote_from[1] = PY_SSIZE_T_MAX;
    for (Py_ssize_t i = 0; elements != NULL && i < scan->record_count; i++) {
        PyObject *element = element_make(scan, &scan->records[i], &attributes);
        if (element == NULL)
            Py_CLEAR(elements);
        else
            PyList_SET_ITEM(elements, i, element);
    }
    attributes_clear(&attributes);
    PyMem_Free(attributes.items);
    return elements;
}

static PyObject *
elements_find(PyObject *module, PyObject *const *args, Py_ssize_t count)
{
    if (count != 4 || !PyUnicode_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "elements_find(source, names_wanted, attribute_hint, "
                                         "hint_literal: str) takes 4 arguments");
        return NULL;
    }
    if (tag_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_tagscan.configure() was not called");
        return NULL;
    }
    PyObject *text = args[0], *result = NULL;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "source must be str");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    Scan scan = {0};
    scan.source.text = text;
    scan.source.kind = PyUnicode_KIND(text);
    scan.source.data = PyUnicode_DATA(text);
    scan.source.length = PyUnicode_GET_LENGTH(text);
    scan.source.quote_from[0] = scan.source.quote_from[1] = PY_SSIZE_T_MAX; /* nothing yet */
    scan.hint_search = PyObject_GetAttrString(args[2], "search");
    scan.hint_literal_length = PyUnicode_GET_LENGTH(args[3]);
    if (scan.hint_search != NULL && scan.hint_literal_length)
        scan.hint_literal = PyUnicode_AsUCS4Copy(args[3]);
    if (scan.hint_search != NULL && (scan.hint_literal || !scan.hint_literal_length) &&
        names_fill(&scan.names, args[1]) == 0 && scan_run(&scan) == 0)
        result = elements_build(&scan);
    stack_pop_to(&scan, 0, 0, 0); /* after an error: drop the namesake counts */
    PyMem_Free(scan.records);
    PyMem_Free(scan.stack);
    names_free(&scan.names);
    PyMem_Free(scan.hint_literal);
    Py_XDECREF(scan.hint_search);
    return result;
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *tag, *element, *attributes, *raw_ends, *voids;
    if (!PyArg_ParseTuple(args, "OOOO!O:configure", &tag, &element, &attributes, &PyDict_Type,
                          &raw_ends, &voids))
        return NULL;
    Py_INCREF(tag);
    Py_XSETREF(tag_type, tag);
    Py_INCREF(element);
    Py_XSETREF(element_type, element);
    Py_INCREF(attributes);
    Py_XSETREF(attributes_type, attributes);
    Py_INCREF(raw_ends);
    Py_XSETREF(raw_text_ends, raw_ends);
    Py_INCREF(voids);
    Py_XSETREF(void_names, voids);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"elements_find", (PyCFunction)(void (*)(void))elements_find, METH_FASTCALL,
     "elements_find(source, names_wanted, attribute_hint, hint_literal): "
     "html_tags._elements_find's list."},
    {"configure", configure, METH_VARARGS,
     "configure(Tag, Element, Attributes, raw_text_end_patterns, void_elements)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "_tagscan",
    "The compiled twin of feed.platforms.html_tags._elements_find (optional).", -1, methods,
};

PyMODINIT_FUNC
PyInit__tagscan(void)
{
    return PyModule_Create(&module_definition);
}
