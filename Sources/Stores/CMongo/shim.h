#ifndef CMONGO_SHIM_H
#define CMONGO_SHIM_H

#include <stdlib.h>
#include <mongoc/mongoc.h>

// bson_t and bson_iter_t are over-aligned, so Swift sees them only as opaque pointers and
// cannot place them on its stack; these allocate them with the alignment they need.

/// A heap bson_t initialized empty, for out-parameters ("reply") of libmongoc calls.
/// Release with cmongo_bson_free.
static inline bson_t *cmongo_bson_alloc(void) {
    bson_t *document = aligned_alloc(_Alignof(bson_t), sizeof(bson_t));
    if (document) { bson_init(document); }
    return document;
}

/// Destroys and frees a bson_t from cmongo_bson_alloc.
static inline void cmongo_bson_free(bson_t *document) {
    bson_destroy(document);
    free(document);
}

/// An uninitialized heap bson_iter_t; release with free().
static inline bson_iter_t *cmongo_iter_alloc(void) {
    return aligned_alloc(_Alignof(bson_iter_t), sizeof(bson_iter_t));
}

/// The bytes of a bson_error_t's message (Swift imports the fixed array as a tuple).
static inline const char *cmongo_error_message(const bson_error_t *error) {
    return error->message;
}

#endif
