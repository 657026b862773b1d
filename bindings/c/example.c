/*
 * Example of the nesf C API: load a model, encode two structures read from a file, walk the
 * straight line between their latents, decode it, and write the decoded structures.
 *
 * usage: example_c MODEL.nesf STRUCTURES.extxyz OUTPUT.extxyz
 */
#include <nesf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stops the program with nesf's message when a call fails. */
#define CHECK(call)                                                                        \
    do {                                                                                   \
        nesf_status_t status_ = (call);                                                    \
        if (status_ != NESF_SUCCESS) {                                                     \
            fprintf(stderr, "error %d: %s\n", (int)status_, nesf_last_error());            \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL STRUCTURES OUTPUT\n", argv[0]);
        return 2;
    }
    printf("nesf %s (header %s)\n", nesf_version(), NESF_VERSION);

    /* ONNX Runtime: found by the library (NESF_ONNXRUNTIME, beside libnesf.so, system path) */
    const char *ort_path = NULL;
    const char *ort_version = NULL;
    CHECK(nesf_runtime_load(NULL, &ort_path, &ort_version));
    printf("ONNX Runtime %s from %s\n", ort_version, ort_path);

    /* a model on the CPU with one ONNX Runtime thread per network */
    nesf_model_options_t model_options;
    model_options.struct_size = sizeof(model_options);
    CHECK(nesf_model_options_init(&model_options));
    model_options.threads = 1;
    nesf_model_t *model = NULL;
    CHECK(nesf_model_load(argv[1], &model_options, &model));

    size_t latent_size = 0;
    size_t n_species = 0;
    int32_t provider = 0;
    int32_t device = 0;
    const char *provider_name = NULL;
    CHECK(nesf_model_latent_size(model, &latent_size));
    CHECK(nesf_model_species_count(model, &n_species));
    CHECK(nesf_model_provider(model, &provider, &device, &provider_name));
    int32_t *species = malloc(n_species * sizeof(int32_t));
    CHECK(nesf_model_species(model, species, n_species));
    printf("model: latent size %zu, %zu species (Z = %d ... %d), running on %s\n", latent_size,
           n_species, species[0], species[n_species - 1], provider_name);
    free(species);

    /* the first two structures of the file */
    nesf_structures_t *file = NULL;
    CHECK(nesf_structures_read(argv[2], &file));
    nesf_structures_t *pair = NULL;
    CHECK(nesf_structures_new(&pair));
    for (size_t i = 0; i < 2; i++) {
        nesf_structure_t *s = NULL;
        CHECK(nesf_structures_get(file, i, &s));
        CHECK(nesf_structures_push(pair, s));
        nesf_structure_free(s);
    }
    nesf_structures_free(file);

    /* encode them, and take 4 points on the line between their latents */
    float *ends = malloc(2 * latent_size * sizeof(float));
    CHECK(nesf_model_encode(model, pair, ends, 2 * latent_size));
    nesf_structures_free(pair);
    const size_t steps = 4;
    float *line = malloc(steps * latent_size * sizeof(float));
    CHECK(nesf_latents_interpolate(ends, ends + latent_size, latent_size, steps, line,
                                   steps * latent_size));
    free(ends);

    /* decode with light settings so the example runs in a moment (a coarse grid, two steps,
     * clusters of any size): use the model's defaults for real work */
    nesf_decode_options_t options;
    options.struct_size = sizeof(options);
    CHECK(nesf_model_decode_options(model, &options));
    options.grid_step = 3.0;
    options.steps = 2;
    options.n_species_offsets = 1;
    options.species_offsets[0] = 0.0;
    options.min_particles = 1;
    nesf_structures_t *decoded = NULL;
    CHECK(nesf_model_decode(model, line, steps, latent_size, &options, &decoded));
    free(line);

    /* read each decoded structure into caller arrays; keep those with atoms */
    nesf_structures_t *keep = NULL;
    CHECK(nesf_structures_new(&keep));
    for (size_t i = 0; i < steps; i++) {
        nesf_structure_t *s = NULL;
        CHECK(nesf_structures_get(decoded, i, &s));
        size_t n = 0;
        double lengths[3];
        double angles[3];
        CHECK(nesf_structure_atom_count(s, &n));
        CHECK(nesf_structure_lattice_parameters(s, lengths, angles));
        printf("step %zu: %zu atoms, a=%.3f b=%.3f c=%.3f alpha=%.2f beta=%.2f gamma=%.2f", i,
               n, lengths[0], lengths[1], lengths[2], angles[0], angles[1], angles[2]);
        if (n > 0) {
            double *positions = malloc(3 * n * sizeof(double));
            int32_t *numbers = malloc(n * sizeof(int32_t));
            float *confidence = malloc(n * sizeof(float));
            CHECK(nesf_structure_positions(s, positions, 3 * n));
            CHECK(nesf_structure_numbers(s, numbers, n));
            CHECK(nesf_structure_confidence(s, confidence, n));
            printf(", atom 0: Z=%d at (%.3f, %.3f, %.3f) confidence %.2f", numbers[0],
                   positions[0], positions[1], positions[2], confidence[0]);
            free(positions);
            free(numbers);
            free(confidence);
            CHECK(nesf_structures_push(keep, s));
        }
        printf("\n");
        nesf_structure_free(s);
    }
    nesf_structures_free(decoded);

    size_t kept = 0;
    CHECK(nesf_structures_count(keep, &kept));
    if (kept > 0) {
        CHECK(nesf_structures_write(keep, argv[3]));
        printf("wrote %zu structures to %s\n", kept, argv[3]);
    }
    nesf_structures_free(keep);
    nesf_model_free(model);
    return 0;
}
