// The C++ wrapper from an installed nesf: load a model, encode, decode.
//
// usage: downstream_cpp MODEL.nesf STRUCTURES.extxyz
#include <nesf.hpp>

#include <iostream>

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: downstream_cpp MODEL STRUCTURES\n";
        return 2;
    }
    try {
        std::cout << "onnxruntime: " << nesf::load_runtime().path << "\n";
        const nesf::Model model = nesf::Model::load(argv[1]);
        std::vector<nesf::Structure> structures = nesf::read_structures(argv[2]);
        structures.erase(structures.begin() + 1, structures.end());
        nesf::DecodeOptions options = model.decode_options();
        options.grid_step = 3.0;
        options.steps = 2;
        options.min_particles = 1;
        const auto decoded = model.decode(model.encode(structures), options);
        std::cout << "decoded " << decoded.size() << " structure(s) with nesf " << nesf::version()
                  << "\n";
        return decoded.size() == 1 ? 0 : 1;
    } catch (const nesf::Error &e) {
        std::cerr << "nesf error " << e.status() << ": " << e.what() << "\n";
        return 1;
    }
}
