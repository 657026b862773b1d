"""
    Nesf

Julia binding of nesf (Neural Structure Fields): decode latent vectors into crystal
structures. Calls the C library libnesf through `ccall`; the low-level declarations in
`generated.jl` are generated from `include/nesf.h` by `generate.py`.

Conventions: lengths in Å, angles in degrees, species as atomic numbers. A structure's
`lattice` is a 3×3 matrix whose columns are the lattice vectors a, b, c; `positions` is 3×n
(Cartesian, one column per atom); latents are `latent_size × n` matrices (one column per
latent). These are the C arrays seen column-major, without reordering.

The library is found through the `NESF_LIBRARY` environment variable (the path of
libnesf.so, read when the module is compiled), else as `libnesf` on the system's library path.
"""
module Nesf

export Model, Structure, NesfError
export load_runtime, load_model, load_default_model, latent_size, species, provider, manifest
export decode_options, encode, decode, interpolate, read_structures, write_structures

"""The C library: `ENV["NESF_LIBRARY"]` when set, else `libnesf` on the library path."""
const libnesf = get(ENV, "NESF_LIBRARY", "libnesf")

include("generated.jl")

"""
    NesfError(status, message)

A failed call of the C library: its status code (`NESF_ERROR_*`) and message.
"""
struct NesfError <: Exception
    status::Int
    message::String
end

Base.showerror(io::IO, e::NesfError) = print(io, "NesfError (status ", e.status, "): ", e.message)

# Throws the thread's last error when `status` is not NESF_SUCCESS (call right after the C
# call: the message is thread-local, and a task does not switch threads in between).
function check(status)
    status == NESF_SUCCESS && return nothing
    throw(NesfError(Int(status), unsafe_string(nesf_last_error())))
end

# A string argument for the C library (which stops at the first NUL byte).
function c_path(path::AbstractString)
    s = String(path)
    occursin('\0', s) && throw(ArgumentError("path contains a NUL character: $(repr(s))"))
    return s
end

# A value of an options struct with every field zero.
function zeroed(::Type{T}) where {T}
    values = map(fieldtypes(T)) do F
        F <: NTuple ? ntuple(_ -> zero(eltype(F)), fieldcount(F)) : zero(F)
    end
    return T(values...)
end

# A copy of an immutable struct with some fields replaced.
function with_fields(x::T; changes...) where {T}
    values = map(fieldnames(T)) do f
        haskey(changes, f) ? convert(fieldtype(T, f), changes[f]) : getfield(x, f)
    end
    return T(values...)
end

# An options struct whose struct_size is set, ready for an _init call.
sized(::Type{T}) where {T} = Ref(with_fields(zeroed(T); struct_size=sizeof(T)))

"""
    version() -> String

The version of the loaded C library.
"""
version() = unsafe_string(nesf_version())

"""
    load_runtime(path=nothing) -> (path, version)

Loads ONNX Runtime from `path`, or by the library's search (`NESF_ONNXRUNTIME`, beside
libnesf.so, the system path) when `path` is `nothing`, and returns the file loaded and its
version. Loading a model does this by itself when needed.
"""
function load_runtime(path::Union{Nothing,AbstractString}=nothing)
    loaded = Ref{Ptr{Cchar}}(C_NULL)
    v = Ref{Ptr{Cchar}}(C_NULL)
    if path === nothing
        check(nesf_runtime_load(C_NULL, loaded, v))
    else
        check(nesf_runtime_load(c_path(path), loaded, v))
    end
    return (path=unsafe_string(loaded[]), version=unsafe_string(v[]))
end

"""
    Model

A loaded model. Immutable and safe to use from many threads at once; freed by a finalizer
(or at once with `finalize(model)`).
"""
mutable struct Model
    ptr::Ptr{nesf_model_t}
    function Model(ptr::Ptr{nesf_model_t})
        model = new(ptr)
        finalizer(model) do m
            nesf_model_free(m.ptr)
            m.ptr = C_NULL
        end
        return model
    end
end

# A Model passes to ccall as its handle (ccall keeps the Model alive during the call).
Base.cconvert(::Type{Ptr{nesf_model_t}}, m::Model) = m
Base.unsafe_convert(::Type{Ptr{nesf_model_t}}, m::Model) = m.ptr

function model_options(; provider::Symbol=:cpu, device_id::Integer=0,
                       allow_fallback::Bool=false, threads::Integer=0,
                       max_points_per_run::Union{Nothing,Integer}=nothing)
    o = sized(nesf_model_options_t)
    check(nesf_model_options_init(o))
    code = provider === :cpu ? NESF_PROVIDER_CPU :
           provider === :cuda ? NESF_PROVIDER_CUDA :
           throw(ArgumentError("provider must be :cpu or :cuda, got :$provider"))
    changes = (provider=code, device_id=device_id, allow_fallback=allow_fallback, threads=threads)
    if max_points_per_run !== nothing
        changes = merge(changes, (max_points_per_run=max_points_per_run,))
    end
    return Ref(with_fields(o[]; changes...))
end

"""
    load_model(path; provider=:cpu, device_id=0, allow_fallback=false, threads=0) -> Model
    load_model(bytes::Vector{UInt8}; ...) -> Model

Loads a model bundle from a file or folder, or from the bytes of a bundle file. `provider`
is `:cpu` or `:cuda`; with `allow_fallback` a model that cannot run on CUDA runs on the CPU
(see [`provider`](@ref)). `threads` is ONNX Runtime's thread count (0: its choice).
"""
function load_model(path::AbstractString; kw...)
    options = model_options(; kw...)
    out = Ref{Ptr{nesf_model_t}}(C_NULL)
    check(nesf_model_load(c_path(path), options, out))
    return Model(out[])
end

function load_model(bytes::Vector{UInt8}; kw...)
    options = model_options(; kw...)
    out = Ref{Ptr{nesf_model_t}}(C_NULL)
    GC.@preserve bytes check(nesf_model_load_from_memory(bytes, length(bytes), options, out))
    return Model(out[])
end

"""
    load_default_model(; kw...) -> Model

The model embedded in the library; throws a [`NesfError`](@ref) with status
`NESF_ERROR_NO_DEFAULT_MODEL` when this build embeds none.
"""
function load_default_model(; kw...)
    options = model_options(; kw...)
    out = Ref{Ptr{nesf_model_t}}(C_NULL)
    check(nesf_model_load_default(options, out))
    return Model(out[])
end

"""
    latent_size(model) -> Int
"""
function latent_size(model::Model)
    n = Ref{Csize_t}(0)
    GC.@preserve model check(nesf_model_latent_size(model, n))
    return Int(n[])
end

"""
    species(model) -> Vector{Int32}

The atomic numbers the model knows, ascending.
"""
function species(model::Model)
    n = Ref{Csize_t}(0)
    GC.@preserve model begin
        check(nesf_model_species_count(model, n))
        out = Vector{Int32}(undef, n[])
        check(nesf_model_species(model, out, length(out)))
    end
    return out
end

"""
    provider(model) -> (provider=:cpu or :cuda, device_id, description)

The execution provider that runs the model, e.g. `(provider=:cpu, device_id=0,
description="CPU")`; after an allowed fallback the description says why.
"""
function provider(model::Model)
    p = Ref{Int32}(0)
    d = Ref{Int32}(0)
    text = Ref{Ptr{Cchar}}(C_NULL)
    GC.@preserve model begin
        check(nesf_model_provider(model, p, d, text))
        description = unsafe_string(text[])
    end
    return (provider=p[] == NESF_PROVIDER_CUDA ? :cuda : :cpu, device_id=Int(d[]),
            description=description)
end

"""
    manifest(model) -> String

The model's manifest (JSON): vocabulary, latent size, decoder defaults, provenance.
"""
function manifest(model::Model)
    text = Ref{Ptr{Cchar}}(C_NULL)
    GC.@preserve model begin
        check(nesf_model_manifest(model, text))
        json = unsafe_string(text[])
    end
    return json
end

"""
    decode_options(; changes...) -> nesf_decode_options_t
    decode_options(model; changes...) -> nesf_decode_options_t

Decoder settings: the paper's (with the fast flow), or the model's defaults, with `changes`
applied, e.g. `decode_options(model; grid_step=1.0, steps=32, species_offsets=[-0.1, 0.0, 0.1])`.
`exact=true` turns the work savers off (`retire_below = merge_below = drop_outside = 0`):
the paper's decoder exactly.
"""
function decode_options(model::Union{Nothing,Model}=nothing; exact::Bool=false, changes...)
    o = sized(nesf_decode_options_t)
    if model === nothing
        check(nesf_decode_options_init(o))
    else
        GC.@preserve model check(nesf_model_decode_options(model, o))
    end
    options = o[]
    rest = Dict{Symbol,Any}(changes)
    if haskey(rest, :species_offsets)
        offsets = collect(Float64, pop!(rest, :species_offsets))
        1 <= length(offsets) <= NESF_MAX_SPECIES_OFFSETS ||
            throw(ArgumentError("1 to $NESF_MAX_SPECIES_OFFSETS species offsets, got $(length(offsets))"))
        padded = ntuple(i -> i <= length(offsets) ? offsets[i] : 0.0, NESF_MAX_SPECIES_OFFSETS)
        options = with_fields(options; species_offsets=padded, n_species_offsets=length(offsets))
    end
    if exact
        options = with_fields(options; retire_below=0.0, merge_below=0.0, drop_outside=0.0)
    end
    return with_fields(options; rest...)
end

"""
    Structure(lattice, positions, numbers; id=nothing)

A crystal structure held in Julia arrays: `lattice` 3×3 (columns a, b, c, Å), `positions`
3×n (Cartesian, Å), `numbers` (atomic numbers), for decoded structures the decoder's
`confidence` per atom (0 to 1), and its `id` (extended XYZ `material_id`, CIF block name) or
`nothing`. Decoded structures may hold no atom.
"""
struct Structure
    lattice::Matrix{Float64}
    positions::Matrix{Float64}
    numbers::Vector{Int32}
    confidence::Union{Nothing,Vector{Float32}}
    id::Union{Nothing,String}
end

function Structure(lattice::AbstractMatrix{<:Real}, positions::AbstractMatrix{<:Real},
                   numbers::AbstractVector{<:Integer}; id::Union{Nothing,AbstractString}=nothing)
    size(lattice) == (3, 3) || throw(ArgumentError("lattice must be 3×3, got $(size(lattice))"))
    size(positions) == (3, length(numbers)) ||
        throw(ArgumentError("positions must be 3×$(length(numbers)), got $(size(positions))"))
    return Structure(Matrix{Float64}(lattice), Matrix{Float64}(positions), Vector{Int32}(numbers),
                     nothing, id === nothing ? nothing : String(id))
end

Base.length(s::Structure) = length(s.numbers)

# A Julia copy of a C structure.
function from_c(ptr::Ptr{nesf_structure_t})
    n = Ref{Csize_t}(0)
    check(nesf_structure_atom_count(ptr, n))
    lattice = Matrix{Float64}(undef, 3, 3)
    positions = Matrix{Float64}(undef, 3, n[])
    numbers = Vector{Int32}(undef, n[])
    has = Ref{Bool}(false)
    check(nesf_structure_lattice(ptr, lattice))
    check(nesf_structure_positions(ptr, positions, length(positions)))
    check(nesf_structure_numbers(ptr, numbers, length(numbers)))
    check(nesf_structure_has_confidence(ptr, has))
    confidence = nothing
    if has[]
        confidence = Vector{Float32}(undef, n[])
        check(nesf_structure_confidence(ptr, confidence, length(confidence)))
    end
    id = Ref{Ptr{Cchar}}(C_NULL)
    check(nesf_structure_id(ptr, id))
    return Structure(lattice, positions, numbers, confidence,
                     id[] == C_NULL ? nothing : unsafe_string(id[]))
end

# Runs f(list) with a new C list holding copies of `structures`, freed afterwards.
function with_c_list(f, structures::AbstractVector{Structure})
    out = Ref{Ptr{nesf_structures_t}}(C_NULL)
    check(nesf_structures_new(out))
    list = out[]
    try
        for s in structures
            size(s.positions) == (3, length(s.numbers)) ||
                throw(ArgumentError("positions must be 3×$(length(s.numbers))"))
            one = Ref{Ptr{nesf_structure_t}}(C_NULL)
            check(nesf_structure_new(s.lattice, s.positions, s.numbers, length(s.numbers), one))
            status = s.id === nothing ? NESF_SUCCESS : nesf_structure_set_id(one[], s.id)
            if status == NESF_SUCCESS
                status = nesf_structures_push(list, one[])
            end
            nesf_structure_free(one[])
            check(status)
        end
        return f(list)
    finally
        nesf_structures_free(list)
    end
end

# Julia copies of every structure of a C list; frees the list.
function take_c_list(list::Ptr{nesf_structures_t})
    try
        count = Ref{Csize_t}(0)
        check(nesf_structures_count(list, count))
        return map(0:Int(count[])-1) do i
            one = Ref{Ptr{nesf_structure_t}}(C_NULL)
            check(nesf_structures_get(list, i, one))
            try
                from_c(one[])
            finally
                nesf_structure_free(one[])
            end
        end
    finally
        nesf_structures_free(list)
    end
end

"""
    encode(model, structures) -> Matrix{Float32}

The latents of `structures`: `latent_size × length(structures)`.
"""
function encode(model::Model, structures::AbstractVector{Structure})
    latents = Matrix{Float32}(undef, latent_size(model), length(structures))
    with_c_list(structures) do list
        GC.@preserve model check(nesf_model_encode(model, list, latents, length(latents)))
    end
    return latents
end

"""
    decode(model, latents; options=decode_options(model)) -> Vector{Structure}

Decodes latents (`latent_size × n`, one column per latent) into `n` structures.
"""
function decode(model::Model, latents::AbstractMatrix{<:Real};
                options::nesf_decode_options_t=decode_options(model))
    z = Matrix{Float32}(latents)
    out = Ref{Ptr{nesf_structures_t}}(C_NULL)
    GC.@preserve model check(nesf_model_decode(model, z, size(z, 2), size(z, 1), Ref(options), out))
    return take_c_list(out[])
end

"""
    interpolate(a, b, steps) -> Matrix{Float32}

`steps` latents evenly spaced from `a` to `b` (both included): `length(a) × steps`.
"""
function interpolate(a::AbstractVector{<:Real}, b::AbstractVector{<:Real}, steps::Integer)
    x = Vector{Float32}(a)
    y = Vector{Float32}(b)
    length(x) == length(y) || throw(ArgumentError("latents of lengths $(length(x)) and $(length(y))"))
    out = Matrix{Float32}(undef, length(x), max(steps, 0))
    check(nesf_latents_interpolate(x, y, length(x), steps, out, length(out)))
    return out
end

"""
    read_structures(path) -> Vector{Structure}

Every structure of a file (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp).
"""
function read_structures(path::AbstractString)
    out = Ref{Ptr{nesf_structures_t}}(C_NULL)
    check(nesf_structures_read(c_path(path), out))
    return take_c_list(out[])
end

"""
    write_structures(path, structures)

Writes structures to a file, the format chosen from its name.
"""
function write_structures(path::AbstractString, structures::AbstractVector{Structure})
    with_c_list(structures) do list
        check(nesf_structures_write(list, c_path(path)))
    end
    return nothing
end

end # module
