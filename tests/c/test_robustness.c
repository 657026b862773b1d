/*
 * Every function of the C API called with NULL for each pointer and with garbage (wrong
 * sizes, NaN coordinates, zero atoms, unknown elements, truncated model files, bad option
 * structs): each call returns a status and leaves a message naming the function; none
 * crashes. Run under valgrind, which also checks that nothing is read or written out of
 * bounds and that nothing leaks.
 *
 * usage: test_robustness MODEL.nesf STRUCTURES.extxyz OUTPUT_DIR
 */
#include "check.h"

#include <math.h>
#include <stdint.h>

#define INVALID NESF_ERROR_INVALID_ARGUMENT

static char dir[2048];

static const char *in_dir(const char *name) {
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void write_bytes(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void write_text(const char *path, const char *text) {
    write_bytes(path, text, strlen(text));
}

static const double cubic[9] = {4, 0, 0, 0, 4, 0, 0, 0, 4};

static void runtime_and_versions(const char *model_path) {
    EXPECT(nesf_last_error() != NULL);
    EXPECT(nesf_version() != NULL && strlen(nesf_version()) >= 5);
    const char *path = NULL;
    const char *version = NULL;
    /* before any ONNX Runtime is loaded: files that are not one are refused, then the search
     * still finds the real one */
    FAILS(nesf_runtime_load("/nonexistent/libonnxruntime.so", &path, &version),
          NESF_ERROR_RUNTIME, "no such file");
    EXPECT(path == NULL && version == NULL);
    FAILS(nesf_runtime_load(model_path, &path, &version), NESF_ERROR_RUNTIME, "ONNX Runtime");
    FAILS(nesf_runtime_load("", &path, &version), INVALID, "empty path");
    FAILS(nesf_runtime_load(NULL, NULL, &version), INVALID, "'loaded_path' is NULL");
    FAILS(nesf_runtime_load(NULL, &path, NULL), INVALID, "'version' is NULL");
    OK(nesf_runtime_load(NULL, &path, &version));
}

static void options(void) {
    FAILS(nesf_model_options_init(NULL), INVALID, "'options' is NULL");
    FAILS(nesf_decode_options_init(NULL), INVALID, "'options' is NULL");
    nesf_model_options_t m;
    memset(&m, 0xAB, sizeof(m));
    FAILS(nesf_model_options_init(&m), INVALID, "struct_size");
    m.struct_size = sizeof(m) - 8;
    FAILS(nesf_model_options_init(&m), INVALID, "struct_size");
    nesf_decode_options_t d;
    memset(&d, 0, sizeof(d));
    FAILS(nesf_decode_options_init(&d), INVALID, "struct_size is 0");
    d.struct_size = sizeof(d) + 8;
    FAILS(nesf_decode_options_init(&d), INVALID, "struct_size");
}

static void models(const char *model_path, const char *data_path) {
    nesf_model_t *model = (nesf_model_t *)&dir; /* must be reset to NULL on failure */
    FAILS(nesf_model_load(NULL, NULL, &model), INVALID, "'path' is NULL");
    EXPECT(model == NULL);
    FAILS(nesf_model_load(model_path, NULL, NULL), INVALID, "'model' is NULL");
    FAILS(nesf_model_load("", NULL, &model), INVALID, "empty path");
    FAILS(nesf_model_load(in_dir("missing.nesf"), NULL, &model), NESF_ERROR_IO, "missing.nesf");
    FAILS(nesf_model_load(data_path, NULL, &model), NESF_ERROR_INVALID_MODEL, "bundle");

    size_t size = 0;
    unsigned char *bytes = read_file(model_path, &size);
    write_bytes(in_dir("truncated.nesf"), bytes, size / 2);
    FAILS(nesf_model_load(in_dir("truncated.nesf"), NULL, &model), NESF_ERROR_INVALID_MODEL,
          "truncated.nesf");
    write_bytes(in_dir("short.nesf"), bytes, 100);
    FAILS(nesf_model_load(in_dir("short.nesf"), NULL, &model), NESF_ERROR_INVALID_MODEL,
          "too short");
    EXPECT(model == NULL);

    FAILS(nesf_model_load_from_memory(NULL, size, NULL, &model), INVALID, "'data' is NULL");
    FAILS(nesf_model_load_from_memory(bytes, size, NULL, NULL), INVALID, "'model' is NULL");
    FAILS(nesf_model_load_from_memory(bytes, 0, NULL, &model), NESF_ERROR_INVALID_MODEL,
          "too short");
    FAILS(nesf_model_load_from_memory(bytes, size / 2, NULL, &model), NESF_ERROR_INVALID_MODEL,
          "bundle");
    FAILS(nesf_model_load_from_memory(bytes, size / 4 * 3, NULL, &model),
          NESF_ERROR_INVALID_MODEL, "bundle");
    unsigned char *garbage = malloc(4096);
    memset(garbage, 7, 4096);
    FAILS(nesf_model_load_from_memory(garbage, 4096, NULL, &model), NESF_ERROR_INVALID_MODEL,
          "bundle");
    free(garbage);
    FAILS(nesf_model_load_from_memory(bytes, SIZE_MAX, NULL, &model), INVALID,
          "larger than any array");

    /* bad options */
    nesf_model_options_t o;
    memset(&o, 0, sizeof(o));
    FAILS(nesf_model_load(model_path, &o, &model), INVALID, "struct_size is 0");
    o.struct_size = sizeof(o);
    OK(nesf_model_options_init(&o));
    o.provider = 7;
    FAILS(nesf_model_load(model_path, &o, &model), INVALID, "provider is 7");
    FAILS(nesf_model_load_from_memory(bytes, size, &o, &model), INVALID, "provider is 7");
    o.provider = NESF_PROVIDER_CPU;
    o.max_points_per_run = 0;
    FAILS(nesf_model_load(model_path, &o, &model), INVALID, "max_points_per_run");
    free(bytes);

    FAILS(nesf_model_load_default(NULL, NULL), INVALID, "'model' is NULL");
    FAILS(nesf_model_load_default(&o, &model), INVALID, "max_points_per_run");
    EXPECT(model == NULL);
    o.struct_size = 3;
    FAILS(nesf_model_load_default(&o, &model), INVALID, "struct_size");
    EXPECT(model == NULL);
    nesf_model_free(NULL);
}

static void model_queries(const nesf_model_t *model) {
    size_t n = 0;
    int32_t numbers[4];
    int32_t provider = 0;
    int32_t device = 0;
    const char *text = NULL;
    FAILS(nesf_model_latent_size(NULL, &n), INVALID, "'model' is NULL");
    FAILS(nesf_model_latent_size(model, NULL), INVALID, "'latent_size' is NULL");
    FAILS(nesf_model_species_count(NULL, &n), INVALID, "'model' is NULL");
    FAILS(nesf_model_species_count(model, NULL), INVALID, "'count' is NULL");
    FAILS(nesf_model_species(NULL, numbers, 4), INVALID, "'model' is NULL");
    FAILS(nesf_model_species(model, NULL, 4), INVALID, "'numbers' is NULL");
    FAILS(nesf_model_species(model, NULL, 0), NESF_ERROR_BUFFER_TOO_SMALL, "needed");
    FAILS(nesf_model_species(model, numbers, 1), NESF_ERROR_BUFFER_TOO_SMALL, "1 elements");
    FAILS(nesf_model_species(model, (int32_t *)((char *)numbers + 1), 3), INVALID,
          "not aligned");
    FAILS(nesf_model_provider(NULL, &provider, &device, &text), INVALID, "'model' is NULL");
    FAILS(nesf_model_provider(model, NULL, &device, &text), INVALID, "'provider' is NULL");
    FAILS(nesf_model_provider(model, &provider, NULL, &text), INVALID, "'device_id' is NULL");
    FAILS(nesf_model_provider(model, &provider, &device, NULL), INVALID,
          "'description' is NULL");
    FAILS(nesf_model_manifest(NULL, &text), INVALID, "'model' is NULL");
    FAILS(nesf_model_manifest(model, NULL), INVALID, "'json' is NULL");

    nesf_decode_options_t d;
    memset(&d, 0, sizeof(d));
    FAILS(nesf_model_decode_options(NULL, &d), INVALID, "'model' is NULL");
    FAILS(nesf_model_decode_options(model, NULL), INVALID, "'options' is NULL");
    FAILS(nesf_model_decode_options(model, &d), INVALID, "struct_size");
}

static nesf_structures_t *first_structures(const char *data_path, size_t count) {
    nesf_structures_t *all = NULL;
    OK(nesf_structures_read(data_path, &all));
    nesf_structures_t *some = NULL;
    OK(nesf_structures_new(&some));
    for (size_t i = 0; i < count; i++) {
        nesf_structure_t *s = NULL;
        OK(nesf_structures_get(all, i, &s));
        OK(nesf_structures_push(some, s));
        nesf_structure_free(s);
    }
    nesf_structures_free(all);
    return some;
}

static void encoding(const nesf_model_t *model, const char *data_path) {
    nesf_structures_t *two = first_structures(data_path, 2);
    float latents[2 * 192];
    FAILS(nesf_model_encode(NULL, two, latents, 384), INVALID, "'model' is NULL");
    FAILS(nesf_model_encode(model, NULL, latents, 384), INVALID, "'structures' is NULL");
    FAILS(nesf_model_encode(model, two, NULL, 384), INVALID, "'latents' is NULL");
    FAILS(nesf_model_encode(model, two, NULL, 0), NESF_ERROR_BUFFER_TOO_SMALL, "384");
    FAILS(nesf_model_encode(model, two, latents, 383), NESF_ERROR_BUFFER_TOO_SMALL, "384");

    /* helium is an element, but not one this model knows */
    const double positions[6] = {0, 0, 0, 2, 2, 2};
    const int32_t helium[2] = {2, 2};
    nesf_structure_t *stranger = NULL;
    OK(nesf_structure_new(cubic, positions, helium, 2, &stranger));
    nesf_structures_t *odd = NULL;
    OK(nesf_structures_new(&odd));
    OK(nesf_structures_push(odd, stranger));
    FAILS(nesf_model_encode(model, odd, latents, 384), INVALID, "vocabulary");
    nesf_structures_free(odd);
    nesf_structure_free(stranger);

    /* no structure: nothing to do */
    nesf_structures_t *none = NULL;
    OK(nesf_structures_new(&none));
    OK(nesf_model_encode(model, none, NULL, 0));
    nesf_structures_free(none);
    nesf_structures_free(two);
}

static void decoding(const nesf_model_t *model) {
    float latents[2 * 192];
    for (size_t i = 0; i < 2 * 192; i++) {
        latents[i] = 0.01f * (float)(i % 17);
    }
    nesf_structures_t *out = (nesf_structures_t *)&dir;
    nesf_decode_options_t o = quick_options(model);
    FAILS(nesf_model_decode(NULL, latents, 2, 192, &o, &out), INVALID, "'model' is NULL");
    EXPECT(out == NULL);
    out = (nesf_structures_t *)&dir;
    FAILS(nesf_model_decode_monitored(NULL, latents, 2, 192, &o, NULL, NULL, &out), INVALID,
          "'model' is NULL");
    EXPECT(out == NULL);
    FAILS(nesf_model_decode_monitored(model, latents, 2, 192, &o, NULL, NULL, NULL), INVALID,
          "'structures' is NULL");
    FAILS(nesf_model_decode(model, NULL, 2, 192, &o, &out), INVALID, "'latents' is NULL");
    FAILS(nesf_model_decode(model, latents, 2, 192, &o, NULL), INVALID, "'structures' is NULL");
    FAILS(nesf_model_decode(model, latents, 2, 191, &o, &out), INVALID, "latent_size is 191");
    FAILS(nesf_model_decode(model, latents, 2, 0, &o, &out), INVALID, "latent_size is 0");
    FAILS(nesf_model_decode(model, latents, SIZE_MAX / 100, 192, &o, &out), INVALID,
          "overflows");
    FAILS(nesf_model_decode(model, latents, (SIZE_MAX / 4) / 192, 192, &o, &out), INVALID,
          "larger than any array");
    latents[200] = NAN;
    FAILS(nesf_model_decode(model, latents, 2, 192, &o, &out), INVALID, "non-finite");
    latents[200] = INFINITY;
    FAILS(nesf_model_decode(model, latents, 2, 192, &o, &out), INVALID, "non-finite");
    latents[200] = 0.0f;

    /* bad option structs name the field */
    nesf_decode_options_t bad = o;
    bad.struct_size = 8;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "struct_size is 8");
    bad = o;
    bad.species_vote = 7;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "species_vote is 7");
    bad = o;
    bad.merge_below = -1.0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "merge_below");
    bad = o;
    bad.grid_step = NAN;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "grid_step");
    bad = o;
    bad.grid_step = -1.0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "grid_step");
    bad = o;
    bad.steps = 0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "steps");
    bad = o;
    bad.nms_radius = INFINITY;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "nms_radius");
    bad = o;
    bad.batch_size = 0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "batch_size");
    bad = o;
    bad.min_particles = 0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "min_particles");
    bad = o;
    bad.n_species_offsets = 0;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "n_species_offsets");
    bad.n_species_offsets = NESF_MAX_SPECIES_OFFSETS + 1;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "n_species_offsets");
    bad = o;
    bad.species_offsets[0] = NAN;
    FAILS(nesf_model_decode(model, latents, 2, 192, &bad, &out), INVALID, "species_offsets");
    bad = o;
    bad.grid_step = 1e-4; /* billions of particles */
    FAILS(nesf_model_decode(model, latents, 1, 192, &bad, &out), INVALID, "limit");
    EXPECT(out == NULL);

    /* latents far from anything seen: the lattice heads may predict an impossible cell, which
     * is a decoding error, never a crash */
    for (size_t i = 0; i < 192; i++) {
        latents[i] = (i % 2 == 0) ? 1e30f : -1e30f;
    }
    nesf_status_t status = nesf_model_decode(model, latents, 1, 192, &o, &out);
    EXPECT(status == NESF_SUCCESS || status == NESF_ERROR_DECODE);
    if (status == NESF_SUCCESS) {
        nesf_structures_free(out);
    } else {
        EXPECT(strncmp(nesf_last_error(), "nesf_model_decode: ", 19) == 0);
        printf("extreme latent: %s\n", nesf_last_error());
    }
}

static void interpolation(void) {
    float a[4] = {0, 1, 2, 3};
    float b[4] = {1, 1, 1, 1};
    float out[12];
    FAILS(nesf_latents_interpolate(NULL, b, 4, 3, out, 12), INVALID, "'start' is NULL");
    FAILS(nesf_latents_interpolate(a, NULL, 4, 3, out, 12), INVALID, "'end' is NULL");
    FAILS(nesf_latents_interpolate(a, b, 4, 3, NULL, 12), INVALID, "'latents' is NULL");
    FAILS(nesf_latents_interpolate(a, b, 0, 3, out, 12), INVALID, "latent_size is 0");
    FAILS(nesf_latents_interpolate(a, b, 4, 1, out, 12), INVALID, "at least 2 steps");
    FAILS(nesf_latents_interpolate(a, b, 4, 0, out, 12), INVALID, "at least 2 steps");
    FAILS(nesf_latents_interpolate(a, b, 4, 3, out, 11), NESF_ERROR_BUFFER_TOO_SMALL, "12");
    FAILS(nesf_latents_interpolate(a, b, 4, SIZE_MAX, out, 12), INVALID, "overflows");
    a[1] = NAN;
    FAILS(nesf_latents_interpolate(a, b, 4, 3, out, 12), INVALID, "non-finite");
    a[1] = 1;
    OK(nesf_latents_interpolate(a, b, 4, 3, out, 12));
    EXPECT(out[4] == 0.5f && out[11] == 1.0f);
}

static void structures(void) {
    const double positions[6] = {0, 0, 0, 2, 2, 2};
    const int32_t numbers[2] = {11, 17};
    nesf_structure_t *s = (nesf_structure_t *)&dir;
    FAILS(nesf_structure_new(NULL, positions, numbers, 2, &s), INVALID, "'lattice' is NULL");
    EXPECT(s == NULL);
    FAILS(nesf_structure_new(cubic, NULL, numbers, 2, &s), INVALID, "'positions' is NULL");
    FAILS(nesf_structure_new(cubic, positions, NULL, 2, &s), INVALID, "'numbers' is NULL");
    FAILS(nesf_structure_new(cubic, positions, numbers, 2, NULL), INVALID,
          "'structure' is NULL");
    FAILS(nesf_structure_new(cubic, NULL, NULL, 0, &s), NESF_ERROR_INVALID_STRUCTURE, "no atoms");
    FAILS(nesf_structure_new(cubic, positions, numbers, SIZE_MAX / 2, &s), INVALID, "overflows");
    double nan_positions[6] = {0, 0, 0, 2, NAN, 2};
    FAILS(nesf_structure_new(cubic, nan_positions, numbers, 2, &s),
          NESF_ERROR_INVALID_STRUCTURE, "non-finite");
    double nan_cell[9] = {4, 0, 0, 0, NAN, 0, 0, 0, 4};
    FAILS(nesf_structure_new(nan_cell, positions, numbers, 2, &s), NESF_ERROR_INVALID_STRUCTURE,
          "lattice");
    double flat_cell[9] = {4, 0, 0, 8, 0, 0, 0, 0, 4};
    FAILS(nesf_structure_new(flat_cell, positions, numbers, 2, &s), NESF_ERROR_INVALID_STRUCTURE,
          "degenerate");
    const int32_t unknown[4][2] = {{11, 0}, {119, 17}, {-5, 17}, {11, 1000}};
    for (int k = 0; k < 4; k++) {
        FAILS(nesf_structure_new(cubic, positions, unknown[k], 2, &s),
              NESF_ERROR_UNKNOWN_ELEMENT, "atomic number");
    }
    EXPECT(s == NULL);
    nesf_structure_free(NULL);

    OK(nesf_structure_new(cubic, positions, numbers, 2, &s));
    size_t n = 0;
    double buffer[9];
    double angles[3];
    int32_t z[2];
    float confidence[2];
    bool has = true;
    FAILS(nesf_structure_atom_count(NULL, &n), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_atom_count(s, NULL), INVALID, "'n_atoms' is NULL");
    FAILS(nesf_structure_lattice(NULL, buffer), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_lattice(s, NULL), INVALID, "'lattice' is NULL");
    FAILS(nesf_structure_lattice_parameters(NULL, buffer, angles), INVALID,
          "'structure' is NULL");
    FAILS(nesf_structure_lattice_parameters(s, NULL, angles), INVALID, "'lengths' is NULL");
    FAILS(nesf_structure_lattice_parameters(s, buffer, NULL), INVALID, "'angles' is NULL");
    FAILS(nesf_structure_positions(NULL, buffer, 6), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_positions(s, NULL, 6), INVALID, "'positions' is NULL");
    FAILS(nesf_structure_positions(s, NULL, 0), NESF_ERROR_BUFFER_TOO_SMALL, "6 are needed");
    FAILS(nesf_structure_positions(s, buffer, 5), NESF_ERROR_BUFFER_TOO_SMALL, "6 are needed");
    FAILS(nesf_structure_positions(s, (double *)((char *)buffer + 4), 6), INVALID,
          "not aligned");
    FAILS(nesf_structure_fractional_positions(NULL, buffer, 6), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_fractional_positions(s, NULL, 6), INVALID, "'positions' is NULL");
    FAILS(nesf_structure_fractional_positions(s, buffer, 2), NESF_ERROR_BUFFER_TOO_SMALL,
          "6 are needed");
    FAILS(nesf_structure_numbers(NULL, z, 2), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_numbers(s, NULL, 2), INVALID, "'numbers' is NULL");
    FAILS(nesf_structure_numbers(s, z, 1), NESF_ERROR_BUFFER_TOO_SMALL, "2 are needed");
    const char *id = "unchanged";
    FAILS(nesf_structure_id(NULL, &id), INVALID, "'structure' is NULL");
    EXPECT(id == NULL);
    FAILS(nesf_structure_id(s, NULL), INVALID, "'id' is NULL");
    FAILS(nesf_structure_set_id(NULL, "x"), INVALID, "'structure' is NULL");
    const char *failure = "unchanged";
    FAILS(nesf_structure_failure(NULL, &failure), INVALID, "'structure' is NULL");
    EXPECT(failure == NULL);
    FAILS(nesf_structure_failure(s, NULL), INVALID, "'message' is NULL");
    OK(nesf_structure_failure(s, &failure));
    EXPECT(failure == NULL);
    FAILS(nesf_structure_has_confidence(NULL, &has), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_has_confidence(s, NULL), INVALID, "'has_confidence' is NULL");
    FAILS(nesf_structure_confidence(NULL, confidence, 2), INVALID, "'structure' is NULL");
    FAILS(nesf_structure_confidence(s, NULL, 2), INVALID, "'confidence' is NULL");
    FAILS(nesf_structure_confidence(s, confidence, 2), INVALID, "not decoded");

    nesf_structures_t *list = (nesf_structures_t *)&dir;
    FAILS(nesf_structures_new(NULL), INVALID, "'structures' is NULL");
    OK(nesf_structures_new(&list));
    nesf_structures_free(NULL);
    FAILS(nesf_structures_count(NULL, &n), INVALID, "'structures' is NULL");
    FAILS(nesf_structures_count(list, NULL), INVALID, "'count' is NULL");
    FAILS(nesf_structures_push(NULL, s), INVALID, "'structures' is NULL");
    FAILS(nesf_structures_push(list, NULL), INVALID, "'structure' is NULL");
    OK(nesf_structures_push(list, s));
    nesf_structure_t *got = (nesf_structure_t *)&dir;
    FAILS(nesf_structures_get(NULL, 0, &got), INVALID, "'structures' is NULL");
    EXPECT(got == NULL);
    FAILS(nesf_structures_get(list, 0, NULL), INVALID, "'structure' is NULL");
    FAILS(nesf_structures_get(list, 1, &got), INVALID, "index 1 is out of range");
    FAILS(nesf_structures_get(list, SIZE_MAX, &got), INVALID, "out of range");

    /* files */
    nesf_structures_t *read = (nesf_structures_t *)&dir;
    FAILS(nesf_structures_read(NULL, &read), INVALID, "'path' is NULL");
    EXPECT(read == NULL);
    FAILS(nesf_structures_read(in_dir("a.xyz"), NULL), INVALID, "'structures' is NULL");
    FAILS(nesf_structures_read(in_dir("missing.cif"), &read), NESF_ERROR_IO, "missing.cif");
    FAILS(nesf_structures_read(in_dir("model.pdb"), &read), INVALID, "unknown file format");
    write_text(in_dir("garbage.cif"), "data_x\n_cell_length_a banana\n");
    nesf_status_t status = nesf_structures_read(in_dir("garbage.cif"), &read);
    EXPECT(status == NESF_ERROR_PARSE);
    EXPECT(strstr(nesf_last_error(), "garbage.cif") != NULL);
    write_text(in_dir("empty.xyz"), "");
    FAILS(nesf_structures_read(in_dir("empty.xyz"), &read), NESF_ERROR_PARSE, "no structure");
    write_bytes(in_dir("binary.xyz"), "\xff\xfe\x00\x01", 4);
    FAILS(nesf_structures_read(in_dir("binary.xyz"), &read), NESF_ERROR_PARSE, "UTF-8");
    write_text(in_dir("nan.xyz"),
               "1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3\nNa nan 0 0\n");
    status = nesf_structures_read(in_dir("nan.xyz"), &read);
    EXPECT(status == NESF_ERROR_PARSE || status == NESF_ERROR_INVALID_STRUCTURE);
    write_text(in_dir("unknown.xyz"),
               "1\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3\nXx 0 0 0\n");
    status = nesf_structures_read(in_dir("unknown.xyz"), &read);
    EXPECT(status == NESF_ERROR_PARSE || status == NESF_ERROR_UNKNOWN_ELEMENT);
    write_text(in_dir("short.xyz"), "5\nLattice=\"4 0 0 0 4 0 0 0 4\"\nNa 0 0 0\n");
    FAILS(nesf_structures_read(in_dir("short.xyz"), &read), NESF_ERROR_PARSE, "short.xyz");
    EXPECT(read == NULL);

    FAILS(nesf_structures_write(NULL, in_dir("out.xyz")), INVALID, "'structures' is NULL");
    FAILS(nesf_structures_write(list, NULL), INVALID, "'path' is NULL");
    FAILS(nesf_structures_write(list, in_dir("out.pdb")), INVALID, "unknown file format");
    FAILS(nesf_structures_write(list, in_dir("no/such/folder/out.xyz")), NESF_ERROR_IO,
          "out.xyz");
    OK(nesf_structures_write(list, in_dir("out.xyz")));

    nesf_structures_free(list);
    nesf_structure_free(s);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL STRUCTURES OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s", argv[3]);
    runtime_and_versions(argv[1]);
    options();
    models(argv[1], argv[2]);
    structures();
    interpolation();
    nesf_model_t *model = load_model(argv[1]);
    model_queries(model);
    encoding(model, argv[2]);
    decoding(model);
    nesf_model_free(model);
    return finish("test_robustness");
}
