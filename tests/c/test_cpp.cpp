// The C++ wrapper: RAII, exceptions carrying the status and message, value types in and out.
//
// usage: test_cpp MODEL.nesf STRUCTURES.extxyz OUTPUT_DIR
#include <nesf.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

static int failures = 0;

#define EXPECT(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::cerr << __FILE__ << ":" << __LINE__ << ": expected " #cond "\n";          \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

// Runs `body`, which must throw nesf::Error with `status` and a message containing `needle`.
template <typename F>
static void expect_error(int line, F body, nesf_status_t status, const std::string &needle) {
    try {
        body();
        std::cerr << "line " << line << ": no exception\n";
        failures++;
    } catch (const nesf::Error &e) {
        if (e.status() != status || std::string(e.what()).find(needle) == std::string::npos) {
            std::cerr << "line " << line << ": got status " << e.status() << " '" << e.what()
                      << "'\n";
            failures++;
        }
    }
}
#define EXPECT_ERROR(body, status, needle) expect_error(__LINE__, [&] { body; }, status, needle)

int main(int argc, char **argv) {
    if (argc != 4) {
        std::cerr << "usage: test_cpp MODEL STRUCTURES OUTPUT_DIR\n";
        return 2;
    }
    const std::string model_path = argv[1];
    const std::string data = argv[2];
    const std::string dir = argv[3];
    try {
        EXPECT(nesf::version() == NESF_VERSION);
        const nesf::RuntimeInfo ort = nesf::load_runtime();
        EXPECT(!ort.path.empty() && !ort.version.empty());

        EXPECT_ERROR(nesf::Model::load(dir + "/missing.nesf"), NESF_ERROR_IO, "missing.nesf");
        EXPECT_ERROR(nesf::Model::load(data), NESF_ERROR_INVALID_MODEL, "bundle");
        const nesf::Model embedded = nesf::Model::load_default();
        EXPECT(embedded.latent_size() == 192);
        EXPECT(embedded.species().size() == 80);

        nesf::ModelOptions options;
        EXPECT(options.provider == NESF_PROVIDER_CPU);
        options.threads = 1;
        nesf::Model model = nesf::Model::load(model_path, options);
        const nesf::Model shared = model; // copies share the handle
        EXPECT(shared.get() == model.get());
        EXPECT(model.latent_size() == 192);
        EXPECT(!model.species().empty());
        EXPECT(model.provider().provider == NESF_PROVIDER_CPU);
        EXPECT(model.provider().description == "CPU");
        EXPECT(model.manifest().find("\"nesf-model\"") != std::string::npos);

        std::ifstream file(model_path, std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                              std::istreambuf_iterator<char>());
        const nesf::Model from_memory = nesf::Model::from_memory(bytes, options);
        EXPECT(from_memory.latent_size() == 192);
        const std::vector<std::uint8_t> half(bytes.begin(), bytes.begin() + bytes.size() / 2);
        EXPECT_ERROR(nesf::Model::from_memory(half), NESF_ERROR_INVALID_MODEL, "bundle");

        // structures
        std::vector<nesf::Structure> all = nesf::read_structures(data);
        EXPECT(all.size() == 100);
        EXPECT(all[0].size() == 13);
        EXPECT(all[0].numbers()[0] == 56);
        EXPECT(!all[0].has_confidence());
        EXPECT(all[0].failure().empty());
        EXPECT_ERROR(all[0].confidence(), NESF_ERROR_INVALID_ARGUMENT, "not decoded");
        const nesf::Lattice cell = all[0].lattice();
        EXPECT(std::fabs(cell[2][2] - 12.990539) < 1e-9);
        const auto fractional = all[0].fractional_positions();
        EXPECT(std::fabs(fractional[0][0] - 0.5) < 1e-9);
        EXPECT(all[0].id() == "mvc-2980");
        {
            // an id set in C++ survives a file
            std::vector<nesf::Structure> one;
            one.emplace_back(all[0].lattice(), all[0].positions(), all[0].numbers());
            EXPECT(one[0].id().empty());
            one[0].set_id("ybco-cpp");
            nesf::write_structures(dir + "/id_cpp.extxyz", one);
            EXPECT(nesf::read_structures(dir + "/id_cpp.extxyz")[0].id() == "ybco-cpp");
        }

        const nesf::Structure salt({{{5.64, 0, 0}, {0, 5.64, 0}, {0, 0, 5.64}}},
                                   {{0, 0, 0}, {2.82, 2.82, 2.82}}, {11, 17});
        EXPECT(salt.size() == 2);
        EXPECT(salt.positions()[1][2] == 2.82);
        EXPECT_ERROR(nesf::Structure({{{5.64, 0, 0}, {0, 5.64, 0}, {0, 0, 5.64}}},
                                     {{0, 0, 0}}, {0}),
                     NESF_ERROR_UNKNOWN_ELEMENT, "atomic number 0");
        EXPECT_ERROR(nesf::Structure({{{5.64, 0, 0}, {0, 5.64, 0}, {0, 0, 5.64}}}, {}, {}),
                     NESF_ERROR_INVALID_STRUCTURE, "no atoms");
        EXPECT_ERROR(nesf::Structure({{{5.64, 0, 0}, {0, 5.64, 0}, {0, 0, 5.64}}},
                                     {{0, 0, NAN}}, {11}),
                     NESF_ERROR_INVALID_STRUCTURE, "non-finite");
        EXPECT_ERROR(nesf::write_structures(dir + "/x.pdb", all), NESF_ERROR_INVALID_ARGUMENT,
                     "unknown file format");

        // a moved-from structure reports a NULL handle instead of crashing
        nesf::Structure moved = std::move(all[3]);
        EXPECT(moved.size() == 13);
        EXPECT_ERROR(all[3].size(), NESF_ERROR_INVALID_ARGUMENT, "'structure' is NULL");

        std::vector<nesf::Structure> three;
        for (int i = 0; i < 3; ++i) {
            three.push_back(std::move(all[i]));
        }
        const std::vector<float> latents = model.encode(three);
        EXPECT(latents.size() == 3 * 192);
        EXPECT(shared.encode(three) == latents);
        const std::vector<float> a(latents.begin(), latents.begin() + 192);
        const std::vector<float> b(latents.begin() + 192, latents.begin() + 384);
        const std::vector<float> line = nesf::interpolate(a, b, 3);
        EXPECT(line.size() == 3 * 192 && line[0] == a[0] && line[2 * 192 + 5] == b[5]);
        EXPECT_ERROR(nesf::interpolate(a, std::vector<float>(3), 3), NESF_ERROR_INVALID_ARGUMENT,
                     "sizes");

        nesf::DecodeOptions decode = model.decode_options();
        EXPECT(decode.steps == 64 && decode.offsets().size() == 6);
        EXPECT(decode.retire_below > 0.0 && decode.symprec == 0.0);
        const nesf::DecodeOptions exact = nesf::DecodeOptions::exact();
        EXPECT(exact.retire_below == 0.0 && exact.merge_below == 0.0 && exact.drop_outside == 0.0);
        EXPECT(exact.steps == 64);
        decode.grid_step = 2.0;
        decode.steps = 2;
        decode.min_particles = 1;
        decode.set_offsets({0.0});
        const std::vector<nesf::Structure> decoded = model.decode(latents, decode);
        EXPECT(decoded.size() == 3);
        std::vector<nesf::Structure> keep;
        for (const auto &s : decoded) {
            EXPECT(s.has_confidence());
            EXPECT(s.confidence().size() == s.size());
            EXPECT(s.failure().empty());
            EXPECT(s.size() > 0);
            if (s.size() > 0) {
                keep.emplace_back(s.lattice(), s.positions(), s.numbers());
            }
        }
        if (!keep.empty()) {
            nesf::write_structures(dir + "/decoded_cpp.cif", keep);
            EXPECT(nesf::read_structures(dir + "/decoded_cpp.cif").size() == keep.size());
        }
        // symmetrised decoding: the same number of structures, every atom with a confidence
        nesf::DecodeOptions snapped = decode;
        snapped.symprec = 0.1;
        const std::vector<nesf::Structure> sym = model.decode(latents, snapped);
        EXPECT(sym.size() == 3);
        for (const auto &s : sym) {
            EXPECT(s.confidence().size() == s.size());
        }
        snapped.symprec = -1;
        EXPECT_ERROR(model.decode(latents, snapped), NESF_ERROR_INVALID_ARGUMENT, "symprec");
        EXPECT_ERROR(model.decode(std::vector<float>(191)), NESF_ERROR_INVALID_ARGUMENT,
                     "latent vectors of size 192");
        decode.grid_step = -1;
        EXPECT_ERROR(model.decode(latents, decode), NESF_ERROR_INVALID_ARGUMENT, "grid_step");
    } catch (const nesf::Error &e) {
        std::cerr << "unexpected nesf::Error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
    if (failures > 0) {
        std::cerr << "test_cpp: " << failures << " failure(s)\n";
        return 1;
    }
    std::cout << "test_cpp: all checks passed\n";
    return 0;
}
