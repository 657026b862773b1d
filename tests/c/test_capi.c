/*
 * The C API working as documented: versions, ONNX Runtime, loading models (path, memory,
 * default), their facts, options, structures and lists, encoding, interpolation, decoding,
 * and structure files.
 *
 * usage: test_capi MODEL.nesf STRUCTURES.extxyz OUTPUT_DIR
 */
#include "check.h"

#include <math.h>

static void check_versions(void) {
    char expected[64];
    snprintf(expected, sizeof(expected), "%d.%d.%d", NESF_VERSION_MAJOR, NESF_VERSION_MINOR,
             NESF_VERSION_PATCH);
    EXPECT(strcmp(NESF_VERSION, expected) == 0);
    EXPECT(strcmp(nesf_version(), NESF_VERSION) == 0);
}

static void check_runtime(void) {
    const char *path = NULL;
    const char *version = NULL;
    OK(nesf_runtime_load(NULL, &path, &version));
    EXPECT(path != NULL && strstr(path, "onnxruntime") != NULL);
    EXPECT(version != NULL && version[0] == '1' && version[1] == '.');
    printf("ONNX Runtime %s from %s\n", version, path);
    /* the same file again is fine; another one is refused */
    const char *again = NULL;
    OK(nesf_runtime_load(path, &again, &version));
    EXPECT(strcmp(again, path) == 0);
    FAILS(nesf_runtime_load("/nonexistent/libonnxruntime.so", &again, &version),
          NESF_ERROR_RUNTIME, "already loaded");
}

static void check_model_facts(const nesf_model_t *model, const char *model_path) {
    size_t latent_size = 0;
    OK(nesf_model_latent_size(model, &latent_size));
    EXPECT(latent_size == 192);

    size_t n_species = 0;
    OK(nesf_model_species_count(model, &n_species));
    EXPECT(n_species > 1);
    int32_t *species = calloc(n_species, sizeof(int32_t));
    FAILS(nesf_model_species(model, species, n_species - 1), NESF_ERROR_BUFFER_TOO_SMALL,
          "needed");
    OK(nesf_model_species(model, species, n_species));
    for (size_t i = 0; i < n_species; i++) {
        EXPECT(species[i] >= 1 && species[i] <= 118);
        if (i > 0) {
            EXPECT(species[i] > species[i - 1]);
        }
    }
    free(species);

    int32_t provider = -1;
    int32_t device = -1;
    const char *description = NULL;
    OK(nesf_model_provider(model, &provider, &device, &description));
    EXPECT(provider == NESF_PROVIDER_CPU);
    EXPECT(device == 0);
    EXPECT(strcmp(description, "CPU") == 0);

    const char *json = NULL;
    OK(nesf_model_manifest(model, &json));
    EXPECT(strstr(json, "\"nesf-model\"") != NULL);
    EXPECT(strstr(json, "\"latent_size\": 192") != NULL);

    /* the same model from memory */
    size_t size = 0;
    unsigned char *bytes = read_file(model_path, &size);
    nesf_model_t *copy = NULL;
    OK(nesf_model_load_from_memory(bytes, size, NULL, &copy));
    size_t copy_latent = 0;
    OK(nesf_model_latent_size(copy, &copy_latent));
    EXPECT(copy_latent == latent_size);
    nesf_model_free(copy);
    free(bytes);

    /* the default model embedded in the library: LCS6A, 80 species, latent 192 */
    nesf_model_t *embedded = NULL;
    OK(nesf_model_load_default(NULL, &embedded));
    size_t embedded_latent = 0, embedded_species = 0;
    OK(nesf_model_latent_size(embedded, &embedded_latent));
    OK(nesf_model_species_count(embedded, &embedded_species));
    EXPECT(embedded_latent == 192);
    EXPECT(embedded_species == 80);
    nesf_model_free(embedded);

    /* CUDA with the CPU build of ONNX Runtime: refused, or a reported fallback */
    nesf_model_options_t cuda;
    cuda.struct_size = sizeof(cuda);
    OK(nesf_model_options_init(&cuda));
    EXPECT(cuda.provider == NESF_PROVIDER_CPU && !cuda.allow_fallback);
    EXPECT(cuda.max_points_per_run == 65536);
    cuda.provider = NESF_PROVIDER_CUDA;
    cuda.allow_fallback = true;
    cuda.threads = 1;
    nesf_model_t *gpu = NULL;
    OK(nesf_model_load(model_path, &cuda, &gpu));
    OK(nesf_model_provider(gpu, &provider, &device, &description));
    if (provider == NESF_PROVIDER_CPU) {
        EXPECT(strstr(description, "was requested but cannot run") != NULL);
    }
    printf("CUDA requested with fallback: %s\n", description);
    nesf_model_free(gpu);
}

/* nesf_decode_options_t as the 0.1 header declared it (before retire_below, drop_outside) */
typedef struct {
    size_t struct_size;
    double grid_step;
    size_t steps;
    double max_last_step;
    double nms_radius;
    size_t min_particles;
    size_t batch_size;
    size_t n_species_offsets;
    double species_offsets[NESF_MAX_SPECIES_OFFSETS];
} decode_options_v0_1;

/* A program built against the older header: its smaller struct is filled without writing past
 * its end, and decoding with it uses the model's defaults for the fields it lacks. */
static void check_older_header(const nesf_model_t *model, const nesf_decode_options_t *now) {
    struct {
        decode_options_v0_1 options;
        unsigned char guard[64];
    } old;
    memset(&old, 0xCD, sizeof(old));
    old.options.struct_size = sizeof(old.options);
    OK(nesf_decode_options_init((nesf_decode_options_t *)&old.options));
    EXPECT(old.options.struct_size == sizeof(decode_options_v0_1));
    EXPECT(old.options.grid_step == 0.5 && old.options.steps == 64);
    EXPECT(old.options.n_species_offsets == 6);
    EXPECT(memcmp((const char *)&old.options + sizeof(size_t),
                  (const char *)now + sizeof(size_t),
                  sizeof(decode_options_v0_1) - sizeof(size_t)) == 0);
    for (size_t i = 0; i < sizeof(old.guard); ++i) {
        EXPECT(old.guard[i] == 0xCD);
    }
    memset(&old, 0xCD, sizeof(old));
    old.options.struct_size = sizeof(old.options);
    OK(nesf_model_decode_options(model, (nesf_decode_options_t *)&old.options));
    EXPECT(old.options.steps == 64 && old.guard[0] == 0xCD);

    /* the same latents decode to the same structures through the old and the new struct */
    float latent[192];
    for (size_t i = 0; i < 192; ++i) {
        latent[i] = (float)((i % 7) * 0.1 - 0.3);
    }
    old.options.steps = 8;
    nesf_decode_options_t current;
    current.struct_size = sizeof(current);
    OK(nesf_model_decode_options(model, &current));
    current.steps = 8;
    nesf_structures_t *a = NULL, *b = NULL;
    OK(nesf_model_decode(model, latent, 1, 192,
                         (const nesf_decode_options_t *)&old.options, &a));
    OK(nesf_model_decode(model, latent, 1, 192, &current, &b));
    nesf_structure_t *sa = NULL, *sb = NULL;
    OK(nesf_structures_get(a, 0, &sa));
    OK(nesf_structures_get(b, 0, &sb));
    size_t na = 0, nb = 0;
    OK(nesf_structure_atom_count(sa, &na));
    OK(nesf_structure_atom_count(sb, &nb));
    EXPECT(na == nb);
    nesf_structure_free(sa);
    nesf_structure_free(sb);
    nesf_structures_free(a);
    nesf_structures_free(b);
}

static void check_options(const nesf_model_t *model) {
    nesf_decode_options_t paper;
    paper.struct_size = sizeof(paper);
    OK(nesf_decode_options_init(&paper));
    EXPECT(paper.grid_step == 0.5 && paper.steps == 64 && paper.min_particles == 10);
    EXPECT(paper.max_last_step == 0.9 && paper.nms_radius == 0.5 && paper.batch_size == 32);
    EXPECT(paper.n_species_offsets == 6);
    EXPECT(fabs(paper.species_offsets[0] + 0.3) < 1e-12);
    EXPECT(fabs(paper.species_offsets[5] - 0.2) < 1e-12);
    EXPECT(paper.retire_below == 0.003 && paper.merge_below == 0.03 && paper.drop_outside == 0.0);
    EXPECT(paper.species_vote == NESF_SPECIES_VOTE_MAJORITY);
    EXPECT(paper.symprec == 0.0);
    check_older_header(model, &paper);
    /* a struct_size that is no released layout's is refused, naming the sizes accepted */
    nesf_decode_options_t odd = paper;
    odd.struct_size = sizeof(decode_options_v0_1) + 4;
    FAILS(nesf_decode_options_init(&odd), NESF_ERROR_INVALID_ARGUMENT, "accepts the older layouts");
    /* a negative symmetrisation tolerance is refused by name */
    float z[192] = {0};
    nesf_structures_t *none = NULL;
    odd = paper;
    odd.symprec = -1.0;
    FAILS(nesf_model_decode(model, z, 1, 192, &odd, &none), NESF_ERROR_INVALID_ARGUMENT, "symprec");
    /* the test model was made with the paper's defaults */
    nesf_decode_options_t mine;
    mine.struct_size = sizeof(mine);
    OK(nesf_model_decode_options(model, &mine));
    EXPECT(memcmp(&mine, &paper, sizeof(mine)) == 0);
}

static void check_structures(const char *data, const char *dir) {
    nesf_structures_t *list = NULL;
    OK(nesf_structures_read(data, &list));
    size_t count = 0;
    OK(nesf_structures_count(list, &count));
    EXPECT(count == 100);

    nesf_structure_t *first = NULL;
    OK(nesf_structures_get(list, 0, &first));
    size_t n = 0;
    OK(nesf_structure_atom_count(first, &n));
    EXPECT(n == 13);
    double lattice[9];
    OK(nesf_structure_lattice(first, lattice));
    EXPECT(fabs(lattice[0] - 3.857566) < 1e-9 && lattice[1] == 0.0 && lattice[2] == 0.0);
    EXPECT(fabs(lattice[8] - 12.990539) < 1e-9);
    double lengths[3];
    double angles[3];
    OK(nesf_structure_lattice_parameters(first, lengths, angles));
    EXPECT(fabs(lengths[2] - 12.990539) < 1e-9);
    EXPECT(fabs(angles[0] - 90.0) < 1e-9 && fabs(angles[2] - 90.0) < 1e-9);
    double positions[39];
    double fractional[39];
    int32_t numbers[13];
    FAILS(nesf_structure_positions(first, positions, 38), NESF_ERROR_BUFFER_TOO_SMALL, "39");
    OK(nesf_structure_positions(first, positions, 39));
    OK(nesf_structure_fractional_positions(first, fractional, 39));
    OK(nesf_structure_numbers(first, numbers, 13));
    EXPECT(numbers[0] == 56 && numbers[2] == 13 && numbers[12] == 8); /* Ba, Al, O */
    EXPECT(fabs(positions[0] - 1.928783) < 1e-9 && fabs(positions[2] - 2.65779933) < 1e-9);
    EXPECT(fabs(fractional[0] - 0.5) < 1e-9);
    bool has = true;
    OK(nesf_structure_has_confidence(first, &has));
    EXPECT(!has);
    float confidence[13];
    FAILS(nesf_structure_confidence(first, confidence, 13), NESF_ERROR_INVALID_ARGUMENT,
          "not decoded");

    /* the id read from the file, and none for a structure made from arrays */
    const char *id = NULL;
    OK(nesf_structure_id(first, &id));
    EXPECT(id != NULL && strcmp(id, "mvc-2980") == 0);

    /* the same structure rebuilt from the arrays */
    nesf_structure_t *rebuilt = NULL;
    OK(nesf_structure_new(lattice, positions, numbers, 13, &rebuilt));
    OK(nesf_structure_id(rebuilt, &id));
    EXPECT(id == NULL);
    OK(nesf_structure_set_id(rebuilt, "temporary"));
    OK(nesf_structure_set_id(rebuilt, NULL));
    OK(nesf_structure_id(rebuilt, &id));
    EXPECT(id == NULL);
    OK(nesf_structure_set_id(rebuilt, "my-YBCO"));
    FAILS(nesf_structure_set_id(rebuilt, "\xff\xfe"), NESF_ERROR_INVALID_ARGUMENT, "UTF-8");
    double again[39];
    int32_t numbers_again[13];
    OK(nesf_structure_positions(rebuilt, again, 39));
    OK(nesf_structure_numbers(rebuilt, numbers_again, 13));
    EXPECT(memcmp(again, positions, sizeof(again)) == 0);
    EXPECT(memcmp(numbers_again, numbers, sizeof(numbers)) == 0);

    /* a list of our own, written in every format and read back */
    nesf_structures_t *mine = NULL;
    OK(nesf_structures_new(&mine));
    OK(nesf_structures_push(mine, rebuilt));
    const char *names[] = {"one.extxyz", "one.cif", "POSCAR"};
    for (size_t k = 0; k < 3; k++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
        OK(nesf_structures_write(mine, path));
        nesf_structures_t *back = NULL;
        OK(nesf_structures_read(path, &back));
        size_t back_count = 0;
        OK(nesf_structures_count(back, &back_count));
        EXPECT(back_count == 1);
        nesf_structure_t *b = NULL;
        OK(nesf_structures_get(back, 0, &b));
        size_t back_n = 0;
        OK(nesf_structure_atom_count(b, &back_n));
        EXPECT(back_n == 13);
        /* the id survives extended XYZ (material_id) and CIF (block name) */
        const char *back_id = NULL;
        OK(nesf_structure_id(b, &back_id));
        if (k < 2) {
            EXPECT(back_id != NULL && strcmp(back_id, "my-YBCO") == 0);
        }
        nesf_structure_free(b);
        nesf_structures_free(back);
    }
    /* a POSCAR holds one structure */
    OK(nesf_structures_push(mine, first));
    char poscar[4096];
    snprintf(poscar, sizeof(poscar), "%s/POSCAR_two", dir);
    FAILS(nesf_structures_write(mine, poscar), NESF_ERROR_INVALID_ARGUMENT, "exactly one");

    nesf_structures_free(mine);
    nesf_structure_free(rebuilt);
    nesf_structure_free(first);
    nesf_structures_free(list);
}

static void check_encode_decode(const nesf_model_t *model, const char *data, const char *dir) {
    nesf_structures_t *all = NULL;
    OK(nesf_structures_read(data, &all));
    nesf_structures_t *three = NULL;
    OK(nesf_structures_new(&three));
    for (size_t i = 0; i < 3; i++) {
        nesf_structure_t *s = NULL;
        OK(nesf_structures_get(all, i, &s));
        OK(nesf_structures_push(three, s));
        nesf_structure_free(s);
    }
    nesf_structures_free(all);

    const size_t l = 192;
    float latents[3 * 192];
    float again[3 * 192];
    FAILS(nesf_model_encode(model, three, latents, 3 * l - 1), NESF_ERROR_BUFFER_TOO_SMALL,
          "576");
    OK(nesf_model_encode(model, three, latents, 3 * l));
    OK(nesf_model_encode(model, three, again, 3 * l));
    EXPECT(memcmp(latents, again, sizeof(latents)) == 0);
    for (size_t i = 0; i < 3 * l; i++) {
        EXPECT(isfinite(latents[i]));
    }
    /* structures differ, so do their latents */
    EXPECT(memcmp(latents, latents + l, l * sizeof(float)) != 0);
    nesf_structures_free(three);

    /* five points from latent 0 to latent 1 */
    float line[5 * 192];
    OK(nesf_latents_interpolate(latents, latents + l, l, 5, line, 5 * l));
    EXPECT(memcmp(line, latents, l * sizeof(float)) == 0);
    EXPECT(memcmp(line + 4 * l, latents + l, l * sizeof(float)) == 0);
    EXPECT(fabsf(line[2 * l] - 0.5f * (latents[0] + latents[l])) < 1e-5f);

    nesf_decode_options_t options = quick_options(model);
    nesf_structures_t *decoded = NULL;
    OK(nesf_model_decode(model, latents, 3, l, &options, &decoded));
    size_t count = 0;
    OK(nesf_structures_count(decoded, &count));
    EXPECT(count == 3);
    nesf_structures_t *nonempty = NULL;
    OK(nesf_structures_new(&nonempty));
    for (size_t i = 0; i < count; i++) {
        nesf_structure_t *s = NULL;
        OK(nesf_structures_get(decoded, i, &s));
        bool has = false;
        OK(nesf_structure_has_confidence(s, &has));
        EXPECT(has);
        size_t n = 0;
        OK(nesf_structure_atom_count(s, &n));
        printf("decoded structure %zu: %zu atoms\n", i, n);
        EXPECT(n > 0);
        if (n > 0) {
            float *confidence = malloc(n * sizeof(float));
            int32_t *numbers = malloc(n * sizeof(int32_t));
            OK(nesf_structure_confidence(s, confidence, n));
            OK(nesf_structure_numbers(s, numbers, n));
            for (size_t k = 0; k < n; k++) {
                EXPECT(confidence[k] >= 0.0f && confidence[k] <= 1.0f);
                EXPECT(numbers[k] >= 1 && numbers[k] <= 118);
            }
            free(confidence);
            free(numbers);
            OK(nesf_structures_push(nonempty, s));
        }
        nesf_structure_free(s);
    }
    size_t kept = 0;
    OK(nesf_structures_count(nonempty, &kept));
    if (kept > 0) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/decoded.extxyz", dir);
        OK(nesf_structures_write(nonempty, path));
    }
    nesf_structures_free(nonempty);

    /* a latent in which no atom is found (no cluster is big enough) decodes to an empty
     * structure, which cannot be written */
    nesf_decode_options_t strict = options;
    strict.min_particles = 1000000;
    nesf_structures_t *empty = NULL;
    OK(nesf_model_decode(model, latents, 1, l, &strict, &empty));
    nesf_structure_t *nothing = NULL;
    OK(nesf_structures_get(empty, 0, &nothing));
    size_t zero = 1;
    OK(nesf_structure_atom_count(nothing, &zero));
    EXPECT(zero == 0);
    OK(nesf_structure_positions(nothing, NULL, 0));
    OK(nesf_structure_numbers(nothing, NULL, 0));
    OK(nesf_structure_confidence(nothing, NULL, 0));
    char empty_path[4096];
    snprintf(empty_path, sizeof(empty_path), "%s/empty.extxyz", dir);
    FAILS(nesf_structures_write(empty, empty_path), NESF_ERROR_INVALID_STRUCTURE, "detected no atom");
    FAILS(nesf_model_encode(model, empty, latents, 3 * l), NESF_ERROR_INVALID_STRUCTURE,
          "structure 0");
    nesf_structure_free(nothing);
    nesf_structures_free(empty);

    /* options NULL: the model's defaults (no latent, so no cost) */
    nesf_structures_t *defaults = NULL;
    OK(nesf_model_decode(model, latents, 0, l, NULL, &defaults));
    size_t none = 1;
    OK(nesf_structures_count(defaults, &none));
    EXPECT(none == 0);
    nesf_structures_free(defaults);
    nesf_structures_free(decoded);
}

/* A progress callback: records what it saw, and cancels once `stop_at` structures are done. */
typedef struct {
    size_t calls, last_done, total, stop_at;
    int went_back;
} progress_t;

static int32_t on_progress(size_t done, size_t total, void *user_data) {
    progress_t *p = (progress_t *)user_data;
    if (done < p->last_done) {
        p->went_back = 1;
    }
    p->calls++;
    p->last_done = done;
    p->total = total;
    return done >= p->stop_at ? 1 : 0;
}

/* nesf_model_decode_monitored: progress after every flow step and batch, and cancellation. */
static void check_monitored_decode(const nesf_model_t *model) {
    float latents[5 * 192];
    for (size_t i = 0; i < 5 * 192; i++) {
        latents[i] = 0.02f * (float)(i % 13) - 0.1f;
    }
    nesf_decode_options_t o;
    o.struct_size = sizeof(o);
    OK(nesf_model_decode_options(model, &o));
    o.grid_step = 1.5;
    o.steps = 4;
    o.batch_size = 2;
    o.n_species_offsets = 1;
    o.species_offsets[0] = 0.0;
    progress_t all = {0, 0, 0, (size_t)-1, 0};
    nesf_structures_t *list = NULL;
    OK(nesf_model_decode_monitored(model, latents, 5, 192, &o, on_progress, &all, &list));
    size_t count = 0;
    OK(nesf_structures_count(list, &count));
    EXPECT(count == 5);
    nesf_structures_free(list);
    /* 3 batches of 4 flow steps, and after each batch */
    EXPECT(all.calls == 3 * 4 + 3 && all.last_done == 5 && all.total == 5 && !all.went_back);

    /* cancelled once 2 structures are done: no list, the status and message say so */
    progress_t stop = {0, 0, 0, 2, 0};
    list = (nesf_structures_t *)&stop;
    FAILS(nesf_model_decode_monitored(model, latents, 5, 192, &o, on_progress, &stop, &list),
          NESF_ERROR_CANCELLED, "cancelled");
    EXPECT(list == NULL && stop.last_done == 2);
    EXPECT(strstr(nesf_last_error(), "after 2 of 5 structures") != NULL);
    /* no callback: the same as nesf_model_decode */
    OK(nesf_model_decode_monitored(model, latents, 5, 192, &o, NULL, NULL, &list));
    nesf_structures_free(list);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL STRUCTURES OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    check_versions();
    check_runtime();
    nesf_model_t *model = load_model(argv[1]);
    check_model_facts(model, argv[1]);
    check_options(model);
    check_structures(argv[2], argv[3]);
    check_encode_decode(model, argv[2], argv[3]);
    check_monitored_decode(model);
    nesf_model_free(model);
    return finish("test_capi");
}
