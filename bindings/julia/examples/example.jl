# Example of the Julia binding: load a model, encode two structures, walk the line between
# their latents, decode it and write the structures found.
#
# usage: NESF_LIBRARY=/prefix/lib/libnesf.so julia --project=bindings/julia \
#            bindings/julia/examples/example.jl MODEL.nesf STRUCTURES.extxyz OUTPUT.extxyz
using Nesf

length(ARGS) == 3 || error("usage: example.jl MODEL STRUCTURES OUTPUT")
model_path, data_path, output = ARGS

println("nesf ", Nesf.version())
ort = load_runtime()
println("ONNX Runtime ", ort.version, " from ", ort.path)

model = load_model(model_path; threads=1)
println("model: latent size ", latent_size(model), ", ", length(species(model)),
        " species, running on ", provider(model).description)

structures = read_structures(data_path)
ends = encode(model, structures[1:2])                  # latent_size × 2
line = interpolate(ends[:, 1], ends[:, 2], 4)          # latent_size × 4

# light settings so the example runs in a moment; use decode_options(model) for real work
options = decode_options(model; grid_step=3.0, steps=2, min_particles=1, species_offsets=[0.0])
decoded = decode(model, line; options=options)
for (i, s) in enumerate(decoded)
    a, b, c = (sqrt(sum(abs2, s.lattice[:, k])) for k in 1:3)
    println("step ", i - 1, ": ", length(s), " atoms, a=", round(a; digits=3),
            " b=", round(b; digits=3), " c=", round(c; digits=3))
end
found = filter(s -> length(s) > 0, decoded)
if !isempty(found)
    write_structures(output, found)
    println("wrote ", length(found), " structures to ", output)
end

# errors are exceptions carrying the C status and message
try
    load_default_model()
catch e
    e isa NesfError || rethrow()
    println("as expected: ", sprint(showerror, e))
end
