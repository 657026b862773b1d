/* Minimal checking helpers shared by the C tests. */
#ifndef NESF_TEST_CHECK_H
#define NESF_TEST_CHECK_H

#include <nesf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/* Records a failed expectation and goes on. */
#define EXPECT(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);            \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

/* A call that must succeed; stops the test otherwise. */
#define OK(call)                                                                           \
    do {                                                                                   \
        nesf_status_t ok_status_ = (call);                                                 \
        if (ok_status_ != NESF_SUCCESS) {                                                  \
            fprintf(stderr, "%s:%d: %s failed with %d: %s\n", __FILE__, __LINE__, #call,   \
                    (int)ok_status_, nesf_last_error());                                   \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* A call that must fail with `status` and a message that names the function and contains
 * `needle` (when not NULL). */
#define FAILS(call, status, needle)                                                        \
    expect_failure(__FILE__, __LINE__, #call, (call), (status), (needle))

static inline void expect_failure(const char *file, int line, const char *text, nesf_status_t got,
                           nesf_status_t want, const char *needle) {
    const char *message = nesf_last_error();
    size_t name_length = strcspn(text, "(");
    if (got != want) {
        fprintf(stderr, "%s:%d: %s returned %d, expected %d (message: %s)\n", file, line, text,
                (int)got, (int)want, message);
        failures++;
        return;
    }
    if (message == NULL || strncmp(message, text, name_length) != 0 ||
        message[name_length] != ':') {
        fprintf(stderr, "%s:%d: %s: message does not start with the function name: '%s'\n",
                file, line, text, message ? message : "(null)");
        failures++;
        return;
    }
    if (needle != NULL && strstr(message, needle) == NULL) {
        fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", file, line, text, message,
                needle);
        failures++;
    }
}

/* The whole file at `path` (malloc'd; the caller frees it); stops the test on failure. */
static inline unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
    if (n < 0 || data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* The result of a test program. */
static inline int finish(const char *name) {
    if (failures > 0) {
        fprintf(stderr, "%s: %d failure(s)\n", name, failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

/* Cheap decoding settings: a coarse grid, two steps, one species-vote point per atom, and
 * single particles accepted as atoms (so the random-weight test model yields atoms). */
static inline nesf_decode_options_t quick_options(const nesf_model_t *model) {
    nesf_decode_options_t o;
    memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    OK(nesf_model_decode_options(model, &o));
    o.grid_step = 3.0;
    o.steps = 2;
    o.n_species_offsets = 1;
    o.species_offsets[0] = 0.0;
    o.min_particles = 1;
    return o;
}

/* A model on the CPU with one ONNX Runtime thread per network (fast under valgrind). */
static inline nesf_model_t *load_model(const char *path) {
    nesf_model_options_t o;
    o.struct_size = sizeof(o);
    OK(nesf_model_options_init(&o));
    o.threads = 1;
    nesf_model_t *model = NULL;
    OK(nesf_model_load(path, &o, &model));
    return model;
}

#endif
