/*
 * A program outside the nesf source tree, built against an installed nesf (find_package or
 * pkg-config): checks the versions, loads ONNX Runtime and a model, encodes a structure and
 * decodes its latent.
 *
 * usage: downstream MODEL.nesf STRUCTURES.extxyz [ONNXRUNTIME]
 *   ONNXRUNTIME: the ONNX Runtime library to load explicitly (needed by a static link, which
 *   has no libnesf.so beside which to find it).
 */
#include <nesf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                        \
    do {                                                                                   \
        nesf_status_t s_ = (call);                                                         \
        if (s_ != NESF_SUCCESS) {                                                          \
            fprintf(stderr, "%s failed (%d): %s\n", #call, (int)s_, nesf_last_error());     \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL STRUCTURES [ONNXRUNTIME]\n", argv[0]);
        return 2;
    }
    if (strcmp(nesf_version(), NESF_VERSION) != 0) {
        fprintf(stderr, "header %s but library %s\n", NESF_VERSION, nesf_version());
        return 1;
    }
    const char *ort = NULL;
    const char *ort_version = NULL;
    CHECK(nesf_runtime_load(argc > 3 ? argv[3] : NULL, &ort, &ort_version));
    printf("onnxruntime: %s\n", ort);

    nesf_model_t *model = NULL;
    CHECK(nesf_model_load(argv[1], NULL, &model));
    size_t latent_size = 0;
    CHECK(nesf_model_latent_size(model, &latent_size));

    nesf_structures_t *structures = NULL;
    CHECK(nesf_structures_read(argv[2], &structures));
    nesf_structures_t *one = NULL;
    nesf_structure_t *first = NULL;
    CHECK(nesf_structures_new(&one));
    CHECK(nesf_structures_get(structures, 0, &first));
    CHECK(nesf_structures_push(one, first));
    float *latent = malloc(latent_size * sizeof(float));
    CHECK(nesf_model_encode(model, one, latent, latent_size));

    nesf_decode_options_t options;
    options.struct_size = sizeof(options);
    CHECK(nesf_model_decode_options(model, &options));
    options.grid_step = 3.0;
    options.steps = 2;
    options.min_particles = 1;
    nesf_structures_t *decoded = NULL;
    CHECK(nesf_model_decode(model, latent, 1, latent_size, &options, &decoded));
    size_t count = 0;
    CHECK(nesf_structures_count(decoded, &count));
    printf("decoded %zu structure(s) with nesf %s\n", count, nesf_version());

    nesf_structures_free(decoded);
    free(latent);
    nesf_structure_free(first);
    nesf_structures_free(one);
    nesf_structures_free(structures);
    nesf_model_free(model);
    return count == 1 ? 0 : 1;
}
