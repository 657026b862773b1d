// nesf.hpp: header-only C++17 wrapper of the nesf C API (nesf.h). RAII handles, errors as
// exceptions (nesf::Error), std::vector/std::array in and out.
//
// Conventions (as in nesf.h): lengths in Å, angles in degrees; the lattice holds the vectors
// a, b, c as rows (lattice[0] is a); positions are Cartesian; species are atomic numbers;
// latents are flat row-major float vectors of n x latent_size values.
//
// A nesf::Model is immutable and may be used from many threads at once; copies share one
// loaded model. nesf::Structure is move-only.
#ifndef NESF_HPP
#define NESF_HPP

#include <nesf.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nesf {

/// A failed call of the C API: the status code and the library's message.
class Error : public std::runtime_error {
public:
    Error(nesf_status_t status, const std::string &message)
        : std::runtime_error(message), status_(status) {}

    /// The C API's status code.
    nesf_status_t status() const noexcept { return status_; }

private:
    nesf_status_t status_;
};

namespace detail {

/// Throws nesf::Error with the thread's last error message when `status` is not success.
inline void check(nesf_status_t status) {
    if (status != NESF_SUCCESS) {
        throw Error(status, nesf_last_error());
    }
}

struct ModelDeleter {
    void operator()(nesf_model_t *p) const noexcept { nesf_model_free(p); }
};
struct StructureDeleter {
    void operator()(nesf_structure_t *p) const noexcept { nesf_structure_free(p); }
};
struct ListDeleter {
    void operator()(nesf_structures_t *p) const noexcept { nesf_structures_free(p); }
};
using List = std::unique_ptr<nesf_structures_t, ListDeleter>;

inline List new_list() {
    nesf_structures_t *raw = nullptr;
    check(nesf_structures_new(&raw));
    return List(raw);
}

} // namespace detail

/// A 3-vector (Å, or fractional coordinates).
using Vec3 = std::array<double, 3>;
/// Lattice vectors a, b, c as rows (Å).
using Lattice = std::array<Vec3, 3>;

/// The version of the loaded library (compare with NESF_VERSION, the header's).
inline std::string version() { return nesf_version(); }

/// The ONNX Runtime library in use.
struct RuntimeInfo {
    std::string path;    ///< the file that was loaded
    std::string version; ///< its version, e.g. "1.31.1"
};

/// Loads ONNX Runtime: from `path`, or with an empty path by the library's search
/// (NESF_ONNXRUNTIME, beside libnesf.so, system path). Returns what was loaded.
inline RuntimeInfo load_runtime(const std::string &path = "") {
    const char *loaded = nullptr;
    const char *ort_version = nullptr;
    detail::check(nesf_runtime_load(path.empty() ? nullptr : path.c_str(), &loaded, &ort_version));
    return RuntimeInfo{loaded, ort_version};
}

/// How to run a model (nesf_model_options_t with its defaults).
struct ModelOptions : nesf_model_options_t {
    ModelOptions() : nesf_model_options_t() {
        struct_size = sizeof(nesf_model_options_t);
        detail::check(nesf_model_options_init(this));
    }
};

/// Decoder settings (nesf_decode_options_t, by default the paper's with the fast flow).
struct DecodeOptions : nesf_decode_options_t {
    DecodeOptions() : nesf_decode_options_t() {
        struct_size = sizeof(nesf_decode_options_t);
        detail::check(nesf_decode_options_init(this));
    }

    /// The paper's decoder exactly: every particle makes every move.
    static DecodeOptions exact() {
        DecodeOptions o;
        o.set_exact();
        return o;
    }

    /// Turns the work savers off (retire_below = merge_below = drop_outside = 0): the
    /// reference decoder.
    DecodeOptions &set_exact() {
        retire_below = 0.0;
        merge_below = 0.0;
        drop_outside = 0.0;
        return *this;
    }

    /// The species-vote offsets (Å).
    std::vector<double> offsets() const {
        return std::vector<double>(species_offsets, species_offsets + n_species_offsets);
    }

    /// Sets the species-vote offsets (Å); at most NESF_MAX_SPECIES_OFFSETS of them.
    void set_offsets(const std::vector<double> &offsets) {
        if (offsets.empty() || offsets.size() > NESF_MAX_SPECIES_OFFSETS) {
            throw Error(NESF_ERROR_INVALID_ARGUMENT,
                        "species offsets: between 1 and NESF_MAX_SPECIES_OFFSETS values");
        }
        n_species_offsets = offsets.size();
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            species_offsets[i] = offsets[i];
        }
    }
};

/// A crystal structure (move-only). Decoded structures carry a per-atom confidence and may
/// hold no atom.
class Structure {
public:
    /// A validated structure from a lattice, Cartesian positions (Å) and atomic numbers.
    Structure(const Lattice &lattice, const std::vector<Vec3> &positions,
              const std::vector<std::int32_t> &numbers) {
        if (positions.size() != numbers.size()) {
            throw Error(NESF_ERROR_INVALID_ARGUMENT,
                        "nesf::Structure: " + std::to_string(positions.size()) +
                            " positions but " + std::to_string(numbers.size()) +
                            " atomic numbers");
        }
        std::array<double, 9> cell{};
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t k = 0; k < 3; ++k) {
                cell[3 * i + k] = lattice[i][k];
            }
        }
        std::vector<double> flat;
        flat.reserve(3 * positions.size());
        for (const auto &p : positions) {
            flat.insert(flat.end(), p.begin(), p.end());
        }
        nesf_structure_t *raw = nullptr;
        detail::check(nesf_structure_new(cell.data(), flat.data(), numbers.data(),
                                         numbers.size(), &raw));
        ptr_.reset(raw);
    }

    /// Takes ownership of a structure handle from the C API.
    explicit Structure(nesf_structure_t *raw) noexcept : ptr_(raw) {}

    /// Number of atoms.
    std::size_t size() const {
        std::size_t n = 0;
        detail::check(nesf_structure_atom_count(get(), &n));
        return n;
    }

    /// Lattice vectors a, b, c as rows (Å).
    Lattice lattice() const {
        std::array<double, 9> cell{};
        detail::check(nesf_structure_lattice(get(), cell.data()));
        Lattice out{};
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t k = 0; k < 3; ++k) {
                out[i][k] = cell[3 * i + k];
            }
        }
        return out;
    }

    /// Lengths a, b, c (Å) and angles alpha, beta, gamma (degrees).
    std::pair<Vec3, Vec3> lattice_parameters() const {
        Vec3 lengths{};
        Vec3 angles{};
        detail::check(nesf_structure_lattice_parameters(get(), lengths.data(), angles.data()));
        return {lengths, angles};
    }

    /// Cartesian positions (Å).
    std::vector<Vec3> positions() const {
        return vectors(nesf_structure_positions);
    }

    /// Fractional positions.
    std::vector<Vec3> fractional_positions() const {
        return vectors(nesf_structure_fractional_positions);
    }

    /// Atomic numbers.
    std::vector<std::int32_t> numbers() const {
        std::vector<std::int32_t> out(size());
        detail::check(nesf_structure_numbers(get(), out.data(), out.size()));
        return out;
    }

    /// The id (extended XYZ `material_id`, CIF block name), or "" when it has none.
    std::string id() const {
        const char *p = nullptr;
        detail::check(nesf_structure_id(get(), &p));
        return p != nullptr ? std::string(p) : std::string();
    }

    /// Why decoding this structure failed (a field returned non-finite values for it; it then
    /// holds no atom), or "" when it did not fail or was not decoded.
    std::string failure() const {
        const char *p = nullptr;
        detail::check(nesf_structure_failure(get(), &p));
        return p != nullptr ? std::string(p) : std::string();
    }

    /// Sets the id ("" removes it); kept when the structure is written to a file.
    Structure &set_id(const std::string &id) {
        detail::check(nesf_structure_set_id(ptr_.get(), id.empty() ? nullptr : id.c_str()));
        return *this;
    }

    /// Whether the structure was decoded (and so has a confidence per atom).
    bool has_confidence() const {
        bool has = false;
        detail::check(nesf_structure_has_confidence(get(), &has));
        return has;
    }

    /// The decoder's confidence per atom (0 to 1); throws for a structure not decoded.
    std::vector<float> confidence() const {
        std::vector<float> out(size());
        detail::check(nesf_structure_confidence(get(), out.data(), out.size()));
        return out;
    }

    /// The C handle (still owned by this object).
    const nesf_structure_t *get() const noexcept { return ptr_.get(); }

private:
    using Reader = nesf_status_t (*)(const nesf_structure_t *, double *, std::size_t);

    std::vector<Vec3> vectors(Reader read) const {
        const std::size_t n = size();
        std::vector<double> flat(3 * n);
        detail::check(read(get(), flat.data(), flat.size()));
        std::vector<Vec3> out(n);
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = {flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]};
        }
        return out;
    }

    std::unique_ptr<nesf_structure_t, detail::StructureDeleter> ptr_;
};

namespace detail {

inline List to_list(const std::vector<Structure> &structures) {
    List list = new_list();
    for (const auto &s : structures) {
        check(nesf_structures_push(list.get(), s.get()));
    }
    return list;
}

inline std::vector<Structure> from_list(const nesf_structures_t *list) {
    std::size_t n = 0;
    check(nesf_structures_count(list, &n));
    std::vector<Structure> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        nesf_structure_t *raw = nullptr;
        check(nesf_structures_get(list, i, &raw));
        out.emplace_back(raw);
    }
    return out;
}

} // namespace detail

/// Reads every structure of a file (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp).
inline std::vector<Structure> read_structures(const std::string &path) {
    nesf_structures_t *raw = nullptr;
    detail::check(nesf_structures_read(path.c_str(), &raw));
    detail::List list(raw);
    return detail::from_list(list.get());
}

/// Writes structures to a file, the format chosen from its name.
inline void write_structures(const std::string &path, const std::vector<Structure> &structures) {
    detail::List list = detail::to_list(structures);
    detail::check(nesf_structures_write(list.get(), path.c_str()));
}

/// `steps` latent vectors evenly spaced from `start` to `end` (both included), flat.
inline std::vector<float> interpolate(const std::vector<float> &start,
                                      const std::vector<float> &end, std::size_t steps) {
    if (start.size() != end.size()) {
        throw Error(NESF_ERROR_INVALID_ARGUMENT,
                    "nesf::interpolate: latents of sizes " + std::to_string(start.size()) +
                        " and " + std::to_string(end.size()));
    }
    std::vector<float> out(steps * start.size());
    detail::check(nesf_latents_interpolate(start.data(), end.data(), start.size(), steps,
                                           out.data(), out.size()));
    return out;
}

/// The execution provider that runs a model.
struct ProviderInfo {
    std::int32_t provider;   ///< NESF_PROVIDER_CPU or NESF_PROVIDER_CUDA
    std::int32_t device_id;  ///< CUDA device (0 on the CPU)
    std::string description; ///< e.g. "CPU"
};

/// A loaded model. Copies share the same model; it is freed with the last copy.
class Model {
public:
    /// Loads a model bundle (file or folder).
    static Model load(const std::string &path) { return load_impl(path, nullptr); }
    /// Loads a model bundle with options.
    static Model load(const std::string &path, const ModelOptions &options) {
        return load_impl(path, &options);
    }

    /// Loads a model bundle file from memory.
    static Model from_memory(const std::vector<std::uint8_t> &bytes) {
        return from_memory_impl(bytes, nullptr);
    }
    /// Loads a model bundle file from memory, with options.
    static Model from_memory(const std::vector<std::uint8_t> &bytes, const ModelOptions &options) {
        return from_memory_impl(bytes, &options);
    }

    /// Loads the model embedded in the library (throws NESF_ERROR_NO_DEFAULT_MODEL when the
    /// build embeds none).
    static Model load_default() {
        nesf_model_t *raw = nullptr;
        detail::check(nesf_model_load_default(nullptr, &raw));
        return Model(raw);
    }

    /// Size of the latent vectors.
    std::size_t latent_size() const {
        std::size_t n = 0;
        detail::check(nesf_model_latent_size(get(), &n));
        return n;
    }

    /// The species vocabulary (atomic numbers, ascending).
    std::vector<std::int32_t> species() const {
        std::size_t n = 0;
        detail::check(nesf_model_species_count(get(), &n));
        std::vector<std::int32_t> out(n);
        detail::check(nesf_model_species(get(), out.data(), out.size()));
        return out;
    }

    /// The execution provider in use.
    ProviderInfo provider() const {
        ProviderInfo info{};
        const char *description = nullptr;
        detail::check(nesf_model_provider(get(), &info.provider, &info.device_id, &description));
        info.description = description;
        return info;
    }

    /// The model's manifest (JSON).
    std::string manifest() const {
        const char *json = nullptr;
        detail::check(nesf_model_manifest(get(), &json));
        return json;
    }

    /// The model's decoder defaults.
    DecodeOptions decode_options() const {
        DecodeOptions options;
        detail::check(nesf_model_decode_options(get(), &options));
        return options;
    }

    /// Encodes structures to latents: structures.size() x latent_size() floats, row-major.
    std::vector<float> encode(const std::vector<Structure> &structures) const {
        detail::List list = detail::to_list(structures);
        std::vector<float> out(structures.size() * latent_size());
        detail::check(nesf_model_encode(get(), list.get(), out.data(), out.size()));
        return out;
    }

    /// Decodes latents (n x latent_size() floats, row-major) with the model's defaults.
    std::vector<Structure> decode(const std::vector<float> &latents) const {
        return decode_impl(latents, nullptr);
    }
    /// Decodes latents with `options`.
    std::vector<Structure> decode(const std::vector<float> &latents,
                                  const DecodeOptions &options) const {
        return decode_impl(latents, &options);
    }

    /// The C handle (still owned by this object).
    const nesf_model_t *get() const noexcept { return ptr_.get(); }

private:
    explicit Model(nesf_model_t *raw) : ptr_(raw, detail::ModelDeleter()) {}

    static Model load_impl(const std::string &path, const nesf_model_options_t *options) {
        nesf_model_t *raw = nullptr;
        detail::check(nesf_model_load(path.c_str(), options, &raw));
        return Model(raw);
    }

    static Model from_memory_impl(const std::vector<std::uint8_t> &bytes,
                                  const nesf_model_options_t *options) {
        nesf_model_t *raw = nullptr;
        detail::check(nesf_model_load_from_memory(bytes.data(), bytes.size(), options, &raw));
        return Model(raw);
    }

    std::vector<Structure> decode_impl(const std::vector<float> &latents,
                                       const nesf_decode_options_t *options) const {
        const std::size_t l = latent_size();
        if (latents.size() % l != 0) {
            throw Error(NESF_ERROR_INVALID_ARGUMENT,
                        "nesf::Model::decode: " + std::to_string(latents.size()) +
                            " values do not form latent vectors of size " + std::to_string(l));
        }
        nesf_structures_t *raw = nullptr;
        detail::check(
            nesf_model_decode(get(), latents.data(), latents.size() / l, l, options, &raw));
        detail::List list(raw);
        return detail::from_list(list.get());
    }

    std::shared_ptr<nesf_model_t> ptr_;
};

} // namespace nesf

#endif // NESF_HPP
