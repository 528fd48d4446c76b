/*
 * A background thread that sleeps between rounds and stops promptly: the
 * drop-folder watcher, the PACS sync and the registration use it.
 */
#include <errno.h>
#include <time.h>

#include "adapters/daemon/daemon_int.h"

static void *
worker_main(void *arg)
{
    struct adapter_worker *w = arg;

    w->fn(w, w->arg);
    return NULL;
}

int
adapter__worker_start(struct adapter_worker *w, adapter_worker_fn fn, void *arg, const char *what,
                      struct base_err *err)
{
    pthread_condattr_t ca;

    w->fn = fn;
    w->arg = arg;
    w->stop = false;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return base_err_set(err, BASE_E_INTERNAL, "exception", what, "could not start a thread");
    }
    w->started = true;
    return BASE_OK;
}

bool
adapter__worker_sleep(struct adapter_worker *w, unsigned ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
        ;
    stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

bool
adapter__worker_stopping(struct adapter_worker *w)
{
    bool stop;

    pthread_mutex_lock(&w->mu);
    stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

void
adapter__worker_stop(struct adapter_worker *w)
{
    if (w == NULL || !w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->started = false;
}
