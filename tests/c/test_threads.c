/*
 * One model handle used by 8 threads at once: every thread decodes the same latents, and
 * every result is bit-identical to decoding them serially.
 *
 * usage: test_threads MODEL.nesf STRUCTURES.extxyz
 */
#include "check.h"

#include <pthread.h>

#define THREADS 8
#define LATENTS 1

/* Everything a decoded structure holds, flattened for comparison. */
typedef struct {
    size_t n;
    double lattice[9];
    double *positions;
    int32_t *numbers;
    float *confidence;
} snapshot_t;

typedef struct {
    const nesf_model_t *model;
    const float *latents;
    size_t latent_size;
    nesf_decode_options_t options;
    pthread_barrier_t *start;
    snapshot_t result[LATENTS];
    nesf_status_t status;
    char message[512];
} job_t;

static nesf_status_t decode_all(const nesf_model_t *model, const float *latents,
                                size_t latent_size, const nesf_decode_options_t *options,
                                snapshot_t *out) {
    nesf_structures_t *list = NULL;
    nesf_status_t status = nesf_model_decode(model, latents, LATENTS, latent_size, options, &list);
    if (status != NESF_SUCCESS) {
        return status;
    }
    for (size_t i = 0; i < LATENTS && status == NESF_SUCCESS; i++) {
        nesf_structure_t *s = NULL;
        status = nesf_structures_get(list, i, &s);
        if (status != NESF_SUCCESS) {
            break;
        }
        snapshot_t *r = &out[i];
        status = nesf_structure_atom_count(s, &r->n);
        r->positions = calloc(3 * r->n + 1, sizeof(double));
        r->numbers = calloc(r->n + 1, sizeof(int32_t));
        r->confidence = calloc(r->n + 1, sizeof(float));
        if (status == NESF_SUCCESS) status = nesf_structure_lattice(s, r->lattice);
        if (status == NESF_SUCCESS) status = nesf_structure_positions(s, r->positions, 3 * r->n);
        if (status == NESF_SUCCESS) status = nesf_structure_numbers(s, r->numbers, r->n);
        if (status == NESF_SUCCESS) status = nesf_structure_confidence(s, r->confidence, r->n);
        nesf_structure_free(s);
    }
    nesf_structures_free(list);
    return status;
}

static void *worker(void *arg) {
    job_t *job = arg;
    pthread_barrier_wait(job->start);
    job->status =
        decode_all(job->model, job->latents, job->latent_size, &job->options, job->result);
    if (job->status != NESF_SUCCESS) {
        snprintf(job->message, sizeof(job->message), "%s", nesf_last_error());
    }
    return NULL;
}

static int same(const snapshot_t *a, const snapshot_t *b) {
    return a->n == b->n && memcmp(a->lattice, b->lattice, sizeof(a->lattice)) == 0 &&
           memcmp(a->positions, b->positions, 3 * a->n * sizeof(double)) == 0 &&
           memcmp(a->numbers, b->numbers, a->n * sizeof(int32_t)) == 0 &&
           memcmp(a->confidence, b->confidence, a->n * sizeof(float)) == 0;
}

static void release(snapshot_t *s) {
    free(s->positions);
    free(s->numbers);
    free(s->confidence);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL STRUCTURES\n", argv[0]);
        return 2;
    }
    nesf_model_t *model = load_model(argv[1]);
    nesf_structures_t *all = NULL;
    OK(nesf_structures_read(argv[2], &all));
    nesf_structures_t *some = NULL;
    OK(nesf_structures_new(&some));
    for (size_t i = 0; i < LATENTS; i++) {
        nesf_structure_t *s = NULL;
        OK(nesf_structures_get(all, 5 + i, &s));
        OK(nesf_structures_push(some, s));
        nesf_structure_free(s);
    }
    nesf_structures_free(all);
    /* the model's own latent size, not an assumed one */
    size_t latent_size = 0;
    OK(nesf_model_latent_size(model, &latent_size));
    EXPECT(latent_size > 0);
    float *latents = calloc(LATENTS * latent_size, sizeof(float));
    OK(nesf_model_encode(model, some, latents, LATENTS * latent_size));
    nesf_structures_free(some);

    nesf_decode_options_t options = quick_options(model);
    snapshot_t serial[LATENTS];
    OK(decode_all(model, latents, latent_size, &options, serial));
    for (size_t i = 0; i < LATENTS; i++) {
        printf("latent %zu: %zu atoms\n", i, serial[i].n);
        /* two empty decodes would compare equal without checking anything */
        EXPECT(serial[i].n > 0);
    }

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    job_t jobs[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&jobs[t], 0, sizeof(jobs[t]));
        jobs[t].model = model;
        jobs[t].latents = latents;
        jobs[t].latent_size = latent_size;
        jobs[t].options = options;
        jobs[t].start = &start;
        if (pthread_create(&threads[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", t);
            return 1;
        }
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    pthread_barrier_destroy(&start);

    for (int t = 0; t < THREADS; t++) {
        if (jobs[t].status != NESF_SUCCESS) {
            fprintf(stderr, "thread %d failed: %s\n", t, jobs[t].message);
            failures++;
        }
        for (size_t i = 0; i < LATENTS; i++) {
            if (jobs[t].status == NESF_SUCCESS && !same(&jobs[t].result[i], &serial[i])) {
                fprintf(stderr, "thread %d, latent %zu: differs from the serial result\n", t, i);
                failures++;
            }
            release(&jobs[t].result[i]);
        }
    }
    for (size_t i = 0; i < LATENTS; i++) {
        release(&serial[i]);
    }
    free(latents);
    nesf_model_free(model);
    return finish("test_threads");
}
