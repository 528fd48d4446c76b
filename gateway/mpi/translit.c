/*
 * gateway/mpi/translit.c — the ICU transliterators the MPI uses.
 *
 * Opening "Han-Latin/Names" builds ICU's pinyin tables (about 100 ms), so
 * each transliterator is opened once per process and shared.  An ICU
 * UTransliterator must not be used by two threads at once, so each has a
 * mutex; transliterating one name takes microseconds, far below the cost of
 * the database round trips of an ingest.
 */
#include <pthread.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "gateway/mpi/mpi_int.h"

struct translit {
    const char *id;     /* ICU compound transliterator id */
    UTransliterator *t; /* NULL until opened, or when opening failed */
    pthread_mutex_t mu; /* guards t during use */
};

/* NFKC folds full-width forms to half-width (U+FF01-FF5E, U+3000) and
 * compatibility characters; Traditional-Simplified maps 張 -> 张.  The
 * Names variant of Han-Latin uses surname readings (单 shan, 曾 zeng,
 * 区 ou), right for person names.  Latin-ASCII drops tone marks (ǎ -> a,
 * ü -> u), so a pinyin typed without tones compares equal. */
static struct translit g_tr[MPI_TR_COUNT] = {
    [MPI_TR_SIMPLIFY] = {"NFKC; Traditional-Simplified", NULL, PTHREAD_MUTEX_INITIALIZER},
    [MPI_TR_PINYIN] = {"Han-Latin/Names; Latin-ASCII; Lower", NULL, PTHREAD_MUTEX_INITIALIZER},
    [MPI_TR_LATIN] = {"NFKC; Any-Latin; Latin-ASCII; Lower", NULL, PTHREAD_MUTEX_INITIALIZER},
};
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void
open_all(void)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(g_tr); i++) {
        UChar id[96];
        UErrorCode st = U_ZERO_ERROR;

        u_uastrncpy(id, g_tr[i].id, (int32_t)BASE_ARRAY_LEN(id));
        g_tr[i].t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
        if (U_FAILURE(st))
            g_tr[i].t = NULL;
    }
}

/* Worst-case growth of a transliteration: one Han character (1 UTF-16
 * unit) becomes a syllable of up to 6 letters plus a space. */
#define GROWTH 8

int
mpi_translit(struct base_arena *a, enum mpi_tr which, const UChar *in, int32_t n, UChar **out,
             int32_t *out_n, struct base_err *err)
{
    int32_t cap = n * GROWTH + 8;
    UChar *buf;
    UErrorCode st = U_ZERO_ERROR;
    int32_t len = n;
    int32_t limit = n;
    struct translit *tr = &g_tr[which];

    (void)pthread_once(&g_once, open_all);
    ENSURE(tr->t != NULL, err, BASE_E_INTERNAL, "exception", "mpi", "transliterator unavailable");
    buf = base_arena_alloc(a, (size_t)cap * sizeof(UChar));
    ENSURE(buf != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    memcpy(buf, in, (size_t)n * sizeof(UChar));
    pthread_mutex_lock(&tr->mu);
    utrans_transUChars(tr->t, buf, &len, cap, 0, &limit, &st);
    pthread_mutex_unlock(&tr->mu);
    ENSURE(U_SUCCESS(st) && len <= cap, err, BASE_E_LIMIT, "too-long", "mpi",
           "name too long after transliteration");
    *out = buf;
    *out_n = len;
    return BASE_OK;
}

int
mpi_utf8_to_u16(struct base_arena *a, const char *s, size_t len, UChar **out, int32_t *out_n,
                struct base_err *err)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t need = 0;
    UChar *buf;

    ENSURE(len <= GW_MPI_LIMIT_ADDRESS, err, BASE_E_LIMIT, "too-long", "mpi", "text too long");
    ENSURE(base_utf8_valid(s, len, NULL), err, BASE_E_INVALID, "value", "mpi", "invalid UTF-8");
    buf = base_arena_alloc(a, (len + 1) * sizeof(UChar));
    ENSURE(buf != NULL, err, BASE_E_NOMEM, "exception", "mpi", "out of memory");
    u_strFromUTF8(buf, (int32_t)len + 1, &need, s, (int32_t)len, &st);
    ENSURE(U_SUCCESS(st), err, BASE_E_INVALID, "value", "mpi", "invalid UTF-8");
    *out = buf;
    *out_n = need;
    return BASE_OK;
}

char *
mpi_u16_to_utf8(struct base_arena *a, const UChar *s, int32_t n)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t need = 0;
    size_t cap = (size_t)n * 3 + 1;
    char *buf = base_arena_alloc(a, cap);

    if (buf == NULL)
        return NULL;
    u_strToUTF8(buf, (int32_t)cap, &need, s, n, &st);
    if (U_FAILURE(st))
        return NULL;
    buf[need] = '\0';
    return buf;
}

bool
mpi_is_han(UChar32 c)
{
    UErrorCode st = U_ZERO_ERROR;

    return uscript_getScript(c, &st) == USCRIPT_HAN && U_SUCCESS(st) && u_isalpha(c);
}
