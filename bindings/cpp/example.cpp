// Example of the C++ wrapper: load a model, encode two structures, walk the line between
// their latents, decode it and write the structures found.
//
// usage: example_cpp MODEL.nesf STRUCTURES.extxyz OUTPUT.extxyz
#include <nesf.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char **argv) {
    if (argc != 4) {
        std::cerr << "usage: " << argv[0] << " MODEL STRUCTURES OUTPUT\n";
        return 2;
    }
    try {
        std::cout << "nesf " << nesf::version() << " (header " << NESF_VERSION << ")\n";
        const nesf::RuntimeInfo ort = nesf::load_runtime();
        std::cout << "ONNX Runtime " << ort.version << " from " << ort.path << "\n";

        nesf::ModelOptions options;
        options.threads = 1;
        const nesf::Model model = nesf::Model::load(argv[1], options);
        const std::vector<std::int32_t> species = model.species();
        std::cout << "model: latent size " << model.latent_size() << ", " << species.size()
                  << " species, running on " << model.provider().description << "\n";

        std::vector<nesf::Structure> all = nesf::read_structures(argv[2]);
        std::vector<nesf::Structure> pair;
        pair.push_back(std::move(all.at(0)));
        pair.push_back(std::move(all.at(1)));
        const std::vector<float> ends = model.encode(pair);
        const std::size_t l = model.latent_size();
        const std::vector<float> start(ends.begin(), ends.begin() + l);
        const std::vector<float> end(ends.begin() + l, ends.end());
        const std::vector<float> line = nesf::interpolate(start, end, 4);

        nesf::DecodeOptions decode = model.decode_options();
        // light settings so the example runs in a moment; use the model's defaults for real work
        decode.grid_step = 3.0;
        decode.steps = 2;
        decode.min_particles = 1;
        decode.set_offsets({0.0});
        std::vector<nesf::Structure> decoded = model.decode(line, decode);

        std::vector<nesf::Structure> found;
        for (std::size_t i = 0; i < decoded.size(); ++i) {
            const auto parameters = decoded[i].lattice_parameters();
            std::printf("step %zu: %zu atoms, a=%.3f b=%.3f c=%.3f\n", i, decoded[i].size(),
                        parameters.first[0], parameters.first[1], parameters.first[2]);
            if (decoded[i].size() > 0) {
                const auto positions = decoded[i].positions();
                const auto confidence = decoded[i].confidence();
                std::printf("  atom 0: Z=%d at (%.3f, %.3f, %.3f), confidence %.2f\n",
                            decoded[i].numbers()[0], positions[0][0], positions[0][1],
                            positions[0][2], confidence[0]);
                found.push_back(std::move(decoded[i]));
            }
        }
        if (!found.empty()) {
            nesf::write_structures(argv[3], found);
            std::cout << "wrote " << found.size() << " structures to " << argv[3] << "\n";
        }
    } catch (const nesf::Error &e) {
        std::cerr << "error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
