!> nesf: Fortran binding of the nesf C library (include/nesf.h), a Fortran 2003 module built
!> on iso_c_binding (it also uses c_sizeof from Fortran 2008). Compile this file with your
!> program and link libnesf (.mod files are compiler-specific, so the module ships as source).
!>
!> Conventions (as in nesf.h): lengths in angstrom, angles in degrees, species as atomic
!> numbers. Results are copied into allocatable arrays:
!>   structure%lattice(3, 3)       lattice(:, 1) is a, lattice(:, 2) is b, lattice(:, 3) is c
!>   structure%positions(3, n)     Cartesian positions, positions(:, i) is atom i
!>   structure%numbers(n)          atomic numbers
!>   structure%confidence(n)       decoder confidence per atom (allocated for decoded structures)
!>   latents(latent_size, n)       latents(:, j) is latent vector j
!>
!> Errors: every procedure takes an optional `status` (NESF_SUCCESS = 0 on success); when it is
!> absent, an error prints nesf_last_error() to standard error and stops the program.
!> A model is freed with nesf_model_free(model); it may be used from many threads at once.
module nesf
    use, intrinsic :: iso_c_binding
    use, intrinsic :: iso_fortran_env, only: error_unit
    implicit none
    private

    ! Status codes (nesf_status_t)
    integer(c_int), parameter, public :: NESF_SUCCESS = 0
    integer(c_int), parameter, public :: NESF_ERROR_INVALID_ARGUMENT = 1
    integer(c_int), parameter, public :: NESF_ERROR_BUFFER_TOO_SMALL = 2
    integer(c_int), parameter, public :: NESF_ERROR_IO = 3
    integer(c_int), parameter, public :: NESF_ERROR_PARSE = 4
    integer(c_int), parameter, public :: NESF_ERROR_INVALID_STRUCTURE = 5
    integer(c_int), parameter, public :: NESF_ERROR_UNKNOWN_ELEMENT = 6
    integer(c_int), parameter, public :: NESF_ERROR_INVALID_MODEL = 7
    integer(c_int), parameter, public :: NESF_ERROR_RUNTIME = 8
    integer(c_int), parameter, public :: NESF_ERROR_DECODE = 9
    integer(c_int), parameter, public :: NESF_ERROR_NO_DEFAULT_MODEL = 10
    integer(c_int), parameter, public :: NESF_ERROR_INTERNAL = 255

    ! Execution providers
    integer(c_int32_t), parameter, public :: NESF_PROVIDER_CPU = 0
    integer(c_int32_t), parameter, public :: NESF_PROVIDER_CUDA = 1
    integer, parameter, public :: NESF_MAX_SPECIES_OFFSETS = 16
    integer(c_int32_t), parameter, public :: NESF_SPECIES_VOTE_MAJORITY = 0
    integer(c_int32_t), parameter, public :: NESF_SPECIES_VOTE_PROBABILITY = 1

    !> How to run a model (nesf_model_options_t). Fill it with nesf_model_options_init first.
    type, bind(C), public :: nesf_model_options
        integer(c_size_t) :: struct_size
        integer(c_int32_t) :: provider
        integer(c_int32_t) :: device_id
        logical(c_bool) :: allow_fallback
        integer(c_size_t) :: threads
        integer(c_size_t) :: max_points_per_run
    end type nesf_model_options

    !> Decoder settings (nesf_decode_options_t). Fill it with nesf_decode_options_init or
    !> nesf_model_decode_options first.
    type, bind(C), public :: nesf_decode_options
        integer(c_size_t) :: struct_size
        real(c_double) :: grid_step
        integer(c_size_t) :: steps
        real(c_double) :: max_last_step
        real(c_double) :: nms_radius
        integer(c_size_t) :: min_particles
        integer(c_size_t) :: batch_size
        integer(c_size_t) :: n_species_offsets
        real(c_double) :: species_offsets(NESF_MAX_SPECIES_OFFSETS)
        !> Fast flow: retire a particle once its move is shorter than this (Angstrom); 0: never.
        real(c_double) :: retire_below
        !> Fast flow: a particle landing in another's cube of this edge (Angstrom) follows it.
        real(c_double) :: merge_below
        !> Fast flow: drop a particle this far (Angstrom) outside the model's box; 0: never.
        real(c_double) :: drop_outside
        !> NESF_SPECIES_VOTE_MAJORITY (the paper's) or NESF_SPECIES_VOTE_PROBABILITY.
        integer(c_int32_t) :: species_vote
        !> Always 0 (no padding bytes in the struct).
        integer(c_int32_t) :: reserved
        !> Symmetrised decoding: snap each structure to the space group found at this
        !> tolerance (Angstrom); 0 (default): off.
        real(c_double) :: symprec
        !> Most particles per batch (grid points x structures); more is refused. Default 2**24.
        integer(c_size_t) :: max_particles
    end type nesf_decode_options

    !> A loaded model (free it with nesf_model_free).
    type, public :: nesf_model
        type(c_ptr) :: ptr = c_null_ptr
    end type nesf_model

    !> A crystal structure, held in Fortran arrays.
    type, public :: nesf_structure
        !> Lattice vectors a, b, c as columns (Å); all 0 when has_cell is false.
        real(c_double) :: lattice(3, 3) = 0.0_c_double
        !> Lattice parameters a, b, c (Å) and alpha, beta, gamma (degrees); for a decoded
        !> structure, as the lattice heads predicted them (set when read back from the library).
        real(c_double) :: lengths(3) = 0.0_c_double, angles(3) = 0.0_c_double
        !> False for a decoded structure whose predicted lattice parameters form no cell.
        logical :: has_cell = .true.
        real(c_double), allocatable :: positions(:, :)
        integer(c_int32_t), allocatable :: numbers(:)
        real(c_float), allocatable :: confidence(:)
        !> The id (extended XYZ material_id, CIF block name); unallocated when it has none.
        character(len=:), allocatable :: id
        !> Why decoding this structure failed (a field of the model returned non-finite values
        !> for it; it then holds no atom); unallocated when it did not fail.
        character(len=:), allocatable :: failure
    end type nesf_structure

    public :: nesf_version, nesf_last_error, nesf_runtime_load
    public :: nesf_model_options_init, nesf_decode_options_init, nesf_decode_options_exact
    public :: nesf_model_load, nesf_model_load_default, nesf_model_free
    public :: nesf_model_latent_size, nesf_model_species, nesf_model_provider
    public :: nesf_model_decode_options, nesf_model_encode, nesf_model_decode
    public :: nesf_latents_interpolate, nesf_structures_read, nesf_structures_write

    !> The message of an error found by this module itself (wrong array shapes), returned by
    !> nesf_last_error() until the next failure. Shared by all threads, unlike the C library's.
    character(len=:), allocatable, save :: fortran_message

    interface
        function c_strlen(s) bind(C, name="strlen") result(n)
            import :: c_ptr, c_size_t
            type(c_ptr), value :: s
            integer(c_size_t) :: n
        end function c_strlen

        function c_version() bind(C, name="nesf_version") result(p)
            import :: c_ptr
            type(c_ptr) :: p
        end function c_version

        function c_last_error() bind(C, name="nesf_last_error") result(p)
            import :: c_ptr
            type(c_ptr) :: p
        end function c_last_error

        function c_runtime_load(path, loaded_path, version) bind(C, name="nesf_runtime_load") result(s)
            import :: c_ptr, c_int
            type(c_ptr), value :: path
            type(c_ptr), intent(out) :: loaded_path, version
            integer(c_int) :: s
        end function c_runtime_load

        function c_model_options_init(options) bind(C, name="nesf_model_options_init") result(s)
            import :: c_int, nesf_model_options
            type(nesf_model_options), intent(inout) :: options
            integer(c_int) :: s
        end function c_model_options_init

        function c_decode_options_init(options) bind(C, name="nesf_decode_options_init") result(s)
            import :: c_int, nesf_decode_options
            type(nesf_decode_options), intent(inout) :: options
            integer(c_int) :: s
        end function c_decode_options_init

        function c_model_load(path, options, model) bind(C, name="nesf_model_load") result(s)
            import :: c_char, c_ptr, c_int
            character(kind=c_char), dimension(*), intent(in) :: path
            type(c_ptr), value :: options
            type(c_ptr), intent(out) :: model
            integer(c_int) :: s
        end function c_model_load

        function c_model_load_default(options, model) bind(C, name="nesf_model_load_default") result(s)
            import :: c_ptr, c_int
            type(c_ptr), value :: options
            type(c_ptr), intent(out) :: model
            integer(c_int) :: s
        end function c_model_load_default

        subroutine c_model_free(model) bind(C, name="nesf_model_free")
            import :: c_ptr
            type(c_ptr), value :: model
        end subroutine c_model_free

        function c_model_latent_size(model, n) bind(C, name="nesf_model_latent_size") result(s)
            import :: c_ptr, c_size_t, c_int
            type(c_ptr), value :: model
            integer(c_size_t), intent(out) :: n
            integer(c_int) :: s
        end function c_model_latent_size

        function c_model_species_count(model, n) bind(C, name="nesf_model_species_count") result(s)
            import :: c_ptr, c_size_t, c_int
            type(c_ptr), value :: model
            integer(c_size_t), intent(out) :: n
            integer(c_int) :: s
        end function c_model_species_count

        function c_model_species(model, numbers, numbers_len) bind(C, name="nesf_model_species") result(s)
            import :: c_ptr, c_size_t, c_int, c_int32_t
            type(c_ptr), value :: model
            integer(c_int32_t), intent(out) :: numbers(*)
            integer(c_size_t), value :: numbers_len
            integer(c_int) :: s
        end function c_model_species

        function c_model_provider(model, provider, device_id, description) &
                bind(C, name="nesf_model_provider") result(s)
            import :: c_ptr, c_int, c_int32_t
            type(c_ptr), value :: model
            integer(c_int32_t), intent(out) :: provider, device_id
            type(c_ptr), intent(out) :: description
            integer(c_int) :: s
        end function c_model_provider

        function c_model_decode_options(model, options) bind(C, name="nesf_model_decode_options") result(s)
            import :: c_ptr, c_int, nesf_decode_options
            type(c_ptr), value :: model
            type(nesf_decode_options), intent(inout) :: options
            integer(c_int) :: s
        end function c_model_decode_options

        function c_model_encode(model, structures, latents, latents_len) &
                bind(C, name="nesf_model_encode") result(s)
            import :: c_ptr, c_size_t, c_int, c_float
            type(c_ptr), value :: model, structures
            real(c_float), intent(out) :: latents(*)
            integer(c_size_t), value :: latents_len
            integer(c_int) :: s
        end function c_model_encode

        function c_model_decode(model, latents, n_latents, latent_size, options, structures) &
                bind(C, name="nesf_model_decode") result(s)
            import :: c_ptr, c_size_t, c_int, c_float
            type(c_ptr), value :: model
            real(c_float), intent(in) :: latents(*)
            integer(c_size_t), value :: n_latents, latent_size
            type(c_ptr), value :: options
            type(c_ptr), intent(out) :: structures
            integer(c_int) :: s
        end function c_model_decode

        function c_latents_interpolate(start, finish, latent_size, steps, latents, latents_len) &
                bind(C, name="nesf_latents_interpolate") result(s)
            import :: c_size_t, c_int, c_float
            real(c_float), intent(in) :: start(*), finish(*)
            integer(c_size_t), value :: latent_size, steps
            real(c_float), intent(out) :: latents(*)
            integer(c_size_t), value :: latents_len
            integer(c_int) :: s
        end function c_latents_interpolate

        function c_structure_new(lattice, positions, numbers, n_atoms, structure) &
                bind(C, name="nesf_structure_new") result(s)
            import :: c_ptr, c_size_t, c_int, c_double, c_int32_t
            real(c_double), intent(in) :: lattice(*), positions(*)
            integer(c_int32_t), intent(in) :: numbers(*)
            integer(c_size_t), value :: n_atoms
            type(c_ptr), intent(out) :: structure
            integer(c_int) :: s
        end function c_structure_new

        subroutine c_structure_free(structure) bind(C, name="nesf_structure_free")
            import :: c_ptr
            type(c_ptr), value :: structure
        end subroutine c_structure_free

        function c_structure_atom_count(structure, n) bind(C, name="nesf_structure_atom_count") result(s)
            import :: c_ptr, c_size_t, c_int
            type(c_ptr), value :: structure
            integer(c_size_t), intent(out) :: n
            integer(c_int) :: s
        end function c_structure_atom_count

        function c_structure_lattice(structure, lattice) bind(C, name="nesf_structure_lattice") result(s)
            import :: c_ptr, c_int, c_double
            type(c_ptr), value :: structure
            real(c_double), intent(out) :: lattice(*)
            integer(c_int) :: s
        end function c_structure_lattice

        function c_structure_lattice_parameters(structure, lengths, angles) &
            bind(C, name="nesf_structure_lattice_parameters") result(s)
            import :: c_ptr, c_int, c_double
            type(c_ptr), value :: structure
            real(c_double), intent(out) :: lengths(*), angles(*)
            integer(c_int) :: s
        end function c_structure_lattice_parameters

        function c_structure_positions(structure, positions, positions_len) &
                bind(C, name="nesf_structure_positions") result(s)
            import :: c_ptr, c_size_t, c_int, c_double
            type(c_ptr), value :: structure
            real(c_double), intent(out) :: positions(*)
            integer(c_size_t), value :: positions_len
            integer(c_int) :: s
        end function c_structure_positions

        function c_structure_numbers(structure, numbers, numbers_len) &
                bind(C, name="nesf_structure_numbers") result(s)
            import :: c_ptr, c_size_t, c_int, c_int32_t
            type(c_ptr), value :: structure
            integer(c_int32_t), intent(out) :: numbers(*)
            integer(c_size_t), value :: numbers_len
            integer(c_int) :: s
        end function c_structure_numbers

        function c_structure_id(structure, id) bind(C, name="nesf_structure_id") result(s)
            import :: c_ptr, c_int
            type(c_ptr), value :: structure
            type(c_ptr), intent(out) :: id
            integer(c_int) :: s
        end function c_structure_id

        function c_structure_failure(structure, message) bind(C, name="nesf_structure_failure") &
                result(s)
            import :: c_ptr, c_int
            type(c_ptr), value :: structure
            type(c_ptr), intent(out) :: message
            integer(c_int) :: s
        end function c_structure_failure

        function c_structure_set_id(structure, id) bind(C, name="nesf_structure_set_id") result(s)
            import :: c_ptr, c_int, c_char
            type(c_ptr), value :: structure
            character(kind=c_char), intent(in) :: id(*)
            integer(c_int) :: s
        end function c_structure_set_id

        function c_structure_has_confidence(structure, has) &
                bind(C, name="nesf_structure_has_confidence") result(s)
            import :: c_ptr, c_int, c_bool
            type(c_ptr), value :: structure
            logical(c_bool), intent(out) :: has
            integer(c_int) :: s
        end function c_structure_has_confidence

        function c_structure_confidence(structure, confidence, confidence_len) &
                bind(C, name="nesf_structure_confidence") result(s)
            import :: c_ptr, c_size_t, c_int, c_float
            type(c_ptr), value :: structure
            real(c_float), intent(out) :: confidence(*)
            integer(c_size_t), value :: confidence_len
            integer(c_int) :: s
        end function c_structure_confidence

        function c_structures_new(structures) bind(C, name="nesf_structures_new") result(s)
            import :: c_ptr, c_int
            type(c_ptr), intent(out) :: structures
            integer(c_int) :: s
        end function c_structures_new

        subroutine c_structures_free(structures) bind(C, name="nesf_structures_free")
            import :: c_ptr
            type(c_ptr), value :: structures
        end subroutine c_structures_free

        function c_structures_count(structures, n) bind(C, name="nesf_structures_count") result(s)
            import :: c_ptr, c_size_t, c_int
            type(c_ptr), value :: structures
            integer(c_size_t), intent(out) :: n
            integer(c_int) :: s
        end function c_structures_count

        function c_structures_get(structures, index, structure) bind(C, name="nesf_structures_get") result(s)
            import :: c_ptr, c_size_t, c_int
            type(c_ptr), value :: structures
            integer(c_size_t), value :: index
            type(c_ptr), intent(out) :: structure
            integer(c_int) :: s
        end function c_structures_get

        function c_structures_push(structures, structure) bind(C, name="nesf_structures_push") result(s)
            import :: c_ptr, c_int
            type(c_ptr), value :: structures, structure
            integer(c_int) :: s
        end function c_structures_push

        function c_structures_read(path, structures) bind(C, name="nesf_structures_read") result(s)
            import :: c_char, c_ptr, c_int
            character(kind=c_char), dimension(*), intent(in) :: path
            type(c_ptr), intent(out) :: structures
            integer(c_int) :: s
        end function c_structures_read

        function c_structures_write(structures, path) bind(C, name="nesf_structures_write") result(s)
            import :: c_char, c_ptr, c_int
            type(c_ptr), value :: structures
            character(kind=c_char), dimension(*), intent(in) :: path
            integer(c_int) :: s
        end function c_structures_write
    end interface

contains

    !> A Fortran copy of a NUL-terminated C string ("" for NULL).
    function from_c_string(p) result(s)
        type(c_ptr), intent(in) :: p
        character(len=:), allocatable :: s
        character(kind=c_char), pointer :: chars(:)
        integer :: n, i
        if (.not. c_associated(p)) then
            s = ""
            return
        end if
        n = int(c_strlen(p))
        call c_f_pointer(p, chars, [n])
        allocate (character(len=n) :: s)
        do i = 1, n
            s(i:i) = chars(i)
        end do
    end function from_c_string

    !> Reports a failed call: through `status` when present, else on standard error and stop.
    !> `message` is given for errors found by this module (the C library has the others).
    subroutine fail(code, status, message)
        integer(c_int), intent(in) :: code
        integer, intent(out), optional :: status
        character(len=*), intent(in), optional :: message
        fortran_message = ""
        if (present(message)) fortran_message = message
        if (present(status)) then
            status = int(code)
        else
            write (error_unit, '(a)') 'nesf: '//nesf_last_error()
            stop 1
        end if
    end subroutine fail

    !> As fail, with the module's own message when `why` is not empty.
    subroutine fail_with(code, status, why)
        integer(c_int), intent(in) :: code
        integer, intent(out), optional :: status
        character(len=*), intent(in) :: why
        if (len(why) > 0) then
            call fail(code, status, why)
        else
            call fail(code, status)
        end if
    end subroutine fail_with

    !> The outcome of a wrapper's last call: fail when `code` is an error, succeed otherwise.
    subroutine report(code, status)
        integer(c_int), intent(in) :: code
        integer, intent(out), optional :: status
        if (code /= NESF_SUCCESS) then
            call fail(code, status)
        else
            call succeed(status)
        end if
    end subroutine report

    !> Success: sets `status` when present.
    subroutine succeed(status)
        integer, intent(out), optional :: status
        if (present(status)) status = int(NESF_SUCCESS)
    end subroutine succeed

    !> The version of the loaded library, e.g. "0.1.0".
    function nesf_version() result(v)
        character(len=:), allocatable :: v
        v = from_c_string(c_version())
    end function nesf_version

    !> The message of the last failed call (of the C library on this thread, or of this
    !> module).
    function nesf_last_error() result(message)
        character(len=:), allocatable :: message
        if (allocated(fortran_message)) then
            if (len(fortran_message) > 0) then
                message = fortran_message
                return
            end if
        end if
        message = from_c_string(c_last_error())
    end function nesf_last_error

    !> Loads ONNX Runtime (from `path`, or by the library's search when `path` is absent) and
    !> returns the file loaded and its version.
    subroutine nesf_runtime_load(loaded_path, version, path, status)
        character(len=:), allocatable, intent(out) :: loaded_path, version
        character(len=*), intent(in), optional :: path
        integer, intent(out), optional :: status
        character(kind=c_char), allocatable, target :: c_path(:)
        type(c_ptr) :: p, v
        integer(c_int) :: code
        integer :: i, n
        if (present(path)) then
            n = len_trim(path)
            allocate (c_path(n + 1))
            do i = 1, n
                c_path(i) = path(i:i)
            end do
            c_path(n + 1) = c_null_char
            code = c_runtime_load(c_loc(c_path), p, v)
        else
            code = c_runtime_load(c_null_ptr, p, v)
        end if
        loaded_path = from_c_string(p)
        version = from_c_string(v)
        call report(code, status)
    end subroutine nesf_runtime_load

    !> The default model options (CPU, no fallback).
    subroutine nesf_model_options_init(options, status)
        type(nesf_model_options), intent(out) :: options
        integer, intent(out), optional :: status
        integer(c_int) :: code
        options%struct_size = c_sizeof(options)
        code = c_model_options_init(options)
        call report(code, status)
    end subroutine nesf_model_options_init

    !> The paper's decoder settings.
    subroutine nesf_decode_options_init(options, status)
        type(nesf_decode_options), intent(out) :: options
        integer, intent(out), optional :: status
        integer(c_int) :: code
        options%struct_size = c_sizeof(options)
        code = c_decode_options_init(options)
        call report(code, status)
    end subroutine nesf_decode_options_init

    !> Turns the decoder's work savers off (retire_below = merge_below = drop_outside = 0):
    !> the paper's decoder exactly, every particle making every move.
    subroutine nesf_decode_options_exact(options)
        type(nesf_decode_options), intent(inout) :: options
        options%retire_below = 0.0_c_double
        options%merge_below = 0.0_c_double
        options%drop_outside = 0.0_c_double
    end subroutine nesf_decode_options_exact

    !> Loads a model bundle (a .nesf file or a bundle folder).
    subroutine nesf_model_load(model, path, options, status)
        type(nesf_model), intent(out) :: model
        character(len=*), intent(in) :: path
        type(nesf_model_options), intent(in), optional :: options
        integer, intent(out), optional :: status
        type(nesf_model_options), target :: local
        integer(c_int) :: code
        if (present(options)) then
            local = options
            code = c_model_load(trim(path)//c_null_char, c_loc(local), model%ptr)
        else
            code = c_model_load(trim(path)//c_null_char, c_null_ptr, model%ptr)
        end if
        call report(code, status)
    end subroutine nesf_model_load

    !> Loads the model embedded in the library (NESF_ERROR_NO_DEFAULT_MODEL when none is).
    subroutine nesf_model_load_default(model, options, status)
        type(nesf_model), intent(out) :: model
        type(nesf_model_options), intent(in), optional :: options
        integer, intent(out), optional :: status
        type(nesf_model_options), target :: local
        integer(c_int) :: code
        if (present(options)) then
            local = options
            code = c_model_load_default(c_loc(local), model%ptr)
        else
            code = c_model_load_default(c_null_ptr, model%ptr)
        end if
        call report(code, status)
    end subroutine nesf_model_load_default

    !> Frees a model (nothing happens for a model not loaded).
    subroutine nesf_model_free(model)
        type(nesf_model), intent(inout) :: model
        call c_model_free(model%ptr)
        model%ptr = c_null_ptr
    end subroutine nesf_model_free

    !> Size of the model's latent vectors (0 on failure, with `status` set).
    function nesf_model_latent_size(model, status) result(n)
        type(nesf_model), intent(in) :: model
        integer, intent(out), optional :: status
        integer :: n
        integer(c_size_t) :: size
        integer(c_int) :: code
        n = 0
        code = c_model_latent_size(model%ptr, size)
        if (code /= NESF_SUCCESS) then
            call fail(code, status)
            return
        end if
        n = int(size)
        call succeed(status)
    end function nesf_model_latent_size

    !> The model's species vocabulary (atomic numbers, ascending).
    subroutine nesf_model_species(model, numbers, status)
        type(nesf_model), intent(in) :: model
        integer(c_int32_t), allocatable, intent(out) :: numbers(:)
        integer, intent(out), optional :: status
        integer(c_size_t) :: n
        integer(c_int) :: code
        code = c_model_species_count(model%ptr, n)
        if (code /= NESF_SUCCESS) then
            call fail(code, status)
            return
        end if
        allocate (numbers(n))
        code = c_model_species(model%ptr, numbers, n)
        call report(code, status)
    end subroutine nesf_model_species

    !> The execution provider running the model: a description such as "CPU", and optionally
    !> the provider code (NESF_PROVIDER_CPU or NESF_PROVIDER_CUDA) and the CUDA device.
    subroutine nesf_model_provider(model, description, provider, device_id, status)
        type(nesf_model), intent(in) :: model
        character(len=:), allocatable, intent(out) :: description
        integer(c_int32_t), intent(out), optional :: provider, device_id
        integer, intent(out), optional :: status
        integer(c_int32_t) :: p, d
        type(c_ptr) :: text
        integer(c_int) :: code
        code = c_model_provider(model%ptr, p, d, text)
        if (code /= NESF_SUCCESS) then
            description = ""
            call fail(code, status)
            return
        end if
        description = from_c_string(text)
        if (present(provider)) provider = p
        if (present(device_id)) device_id = d
        call succeed(status)
    end subroutine nesf_model_provider

    !> The model's decoder defaults.
    subroutine nesf_model_decode_options(model, options, status)
        type(nesf_model), intent(in) :: model
        type(nesf_decode_options), intent(out) :: options
        integer, intent(out), optional :: status
        integer(c_int) :: code
        options%struct_size = c_sizeof(options)
        code = c_model_decode_options(model%ptr, options)
        call report(code, status)
    end subroutine nesf_model_decode_options

    !> A C list holding copies of Fortran structures; c_null_ptr (and `code` set) on failure,
    !> with `why` set when this module found the problem.
    function to_c_list(structures, code, why) result(list)
        type(nesf_structure), intent(in) :: structures(:)
        integer(c_int), intent(out) :: code
        character(len=:), allocatable, intent(out) :: why
        type(c_ptr) :: list
        type(c_ptr) :: one
        integer :: i
        integer(c_size_t) :: n
        character(len=32) :: index
        why = ""
        code = c_structures_new(list)
        if (code /= NESF_SUCCESS) return
        do i = 1, size(structures)
            if (.not. allocated(structures(i)%numbers) .or. &
                .not. allocated(structures(i)%positions)) then
                ! an empty structure: let the C API report it by name
                n = 0
                code = c_structure_new(structures(i)%lattice, [0.0_c_double], [0_c_int32_t], n, one)
            else
                n = int(size(structures(i)%numbers), c_size_t)
                if (size(structures(i)%positions, 2) /= size(structures(i)%numbers) .or. &
                    size(structures(i)%positions, 1) /= 3) then
                    code = NESF_ERROR_INVALID_ARGUMENT
                    write (index, '(i0)') i
                    why = 'nesf (Fortran): structure '//trim(index)// &
                          ': positions must have shape (3, size(numbers))'
                else
                    code = c_structure_new(structures(i)%lattice, structures(i)%positions, &
                                           structures(i)%numbers, n, one)
                end if
            end if
            if (code == NESF_SUCCESS .and. allocated(structures(i)%id)) then
                code = c_structure_set_id(one, structures(i)%id//c_null_char)
                if (code /= NESF_SUCCESS) call c_structure_free(one)
            end if
            if (code == NESF_SUCCESS) then
                code = c_structures_push(list, one)
                call c_structure_free(one)
            end if
            if (code /= NESF_SUCCESS) then
                call c_structures_free(list)
                list = c_null_ptr
                return
            end if
        end do
    end function to_c_list

    !> Copies every structure of a C list into Fortran structures.
    function from_c_list(list, structures) result(code)
        type(c_ptr), intent(in) :: list
        type(nesf_structure), allocatable, intent(out) :: structures(:)
        integer(c_int) :: code
        integer(c_size_t) :: count, i, n
        type(c_ptr) :: one, id
        logical(c_bool) :: has
        code = c_structures_count(list, count)
        if (code /= NESF_SUCCESS) return
        allocate (structures(count))
        do i = 1, count
            code = c_structures_get(list, i - 1, one)
            if (code /= NESF_SUCCESS) return
            code = c_structure_atom_count(one, n)
            if (code /= NESF_SUCCESS) then
                call c_structure_free(one)
                return
            end if
            code = c_structure_lattice_parameters(one, structures(i)%lengths, structures(i)%angles)
            if (code == NESF_SUCCESS) then
                code = c_structure_lattice(one, structures(i)%lattice)
                if (code == NESF_ERROR_INVALID_STRUCTURE) then
                    ! predicted parameters that form no cell: keep them, flag the structure
                    structures(i)%has_cell = .false.
                    structures(i)%lattice = 0.0_c_double
                    code = NESF_SUCCESS
                end if
            end if
            allocate (structures(i)%positions(3, n), structures(i)%numbers(n))
            if (code == NESF_SUCCESS) code = c_structure_positions(one, structures(i)%positions, 3*n)
            if (code == NESF_SUCCESS) code = c_structure_numbers(one, structures(i)%numbers, n)
            if (code == NESF_SUCCESS) code = c_structure_has_confidence(one, has)
            if (code == NESF_SUCCESS .and. has) then
                allocate (structures(i)%confidence(n))
                code = c_structure_confidence(one, structures(i)%confidence, n)
            end if
            if (code == NESF_SUCCESS) code = c_structure_id(one, id)
            if (code == NESF_SUCCESS .and. c_associated(id)) structures(i)%id = from_c_string(id)
            if (code == NESF_SUCCESS) code = c_structure_failure(one, id)
            if (code == NESF_SUCCESS .and. c_associated(id)) &
                structures(i)%failure = from_c_string(id)
            call c_structure_free(one)
            if (code /= NESF_SUCCESS) return
        end do
    end function from_c_list

    !> Encodes structures to latents(latent_size, size(structures)).
    subroutine nesf_model_encode(model, structures, latents, status)
        type(nesf_model), intent(in) :: model
        type(nesf_structure), intent(in) :: structures(:)
        real(c_float), allocatable, intent(out) :: latents(:, :)
        integer, intent(out), optional :: status
        type(c_ptr) :: list
        integer(c_size_t) :: l
        integer(c_int) :: code
        character(len=:), allocatable :: why
        code = c_model_latent_size(model%ptr, l)
        if (code /= NESF_SUCCESS) then
            call fail(code, status)
            return
        end if
        list = to_c_list(structures, code, why)
        if (code /= NESF_SUCCESS) then
            call fail_with(code, status, why)
            return
        end if
        allocate (latents(l, size(structures)))
        code = c_model_encode(model%ptr, list, latents, int(size(latents), c_size_t))
        call c_structures_free(list)
        call report(code, status)
    end subroutine nesf_model_encode

    !> Decodes latents(latent_size, n) into n structures (with the model's defaults, or
    !> `options`). A latent in which no atom is found gives a structure with 0 atoms.
    subroutine nesf_model_decode(model, latents, structures, options, status)
        type(nesf_model), intent(in) :: model
        real(c_float), intent(in) :: latents(:, :)
        type(nesf_structure), allocatable, intent(out) :: structures(:)
        type(nesf_decode_options), intent(in), optional :: options
        integer, intent(out), optional :: status
        type(nesf_decode_options), target :: local
        real(c_float), allocatable :: flat(:, :)
        type(c_ptr) :: list
        integer(c_int) :: code
        allocate (flat, source=latents)
        if (present(options)) then
            local = options
            code = c_model_decode(model%ptr, flat, int(size(flat, 2), c_size_t), &
                                  int(size(flat, 1), c_size_t), c_loc(local), list)
        else
            code = c_model_decode(model%ptr, flat, int(size(flat, 2), c_size_t), &
                                  int(size(flat, 1), c_size_t), c_null_ptr, list)
        end if
        if (code /= NESF_SUCCESS) then
            call fail(code, status)
            return
        end if
        code = from_c_list(list, structures)
        call c_structures_free(list)
        call report(code, status)
    end subroutine nesf_model_decode

    !> `steps` latents evenly spaced from `start` to `finish` (both included):
    !> latents(size(start), steps).
    subroutine nesf_latents_interpolate(start, finish, steps, latents, status)
        real(c_float), intent(in) :: start(:), finish(:)
        integer, intent(in) :: steps
        real(c_float), allocatable, intent(out) :: latents(:, :)
        integer, intent(out), optional :: status
        real(c_float), allocatable :: a(:), b(:)
        integer(c_int) :: code
        if (size(start) /= size(finish) .or. steps < 2) then
            allocate (latents(size(start), 0))
            code = NESF_ERROR_INVALID_ARGUMENT
            call fail(code, status, 'nesf_latents_interpolate (Fortran): start and finish '// &
                      'must have one size and steps must be at least 2')
            return
        end if
        allocate (a, source=start)
        allocate (b, source=finish)
        allocate (latents(size(start), steps))
        code = c_latents_interpolate(a, b, int(size(a), c_size_t), int(steps, c_size_t), &
                                     latents, int(size(latents), c_size_t))
        call report(code, status)
    end subroutine nesf_latents_interpolate

    !> Reads every structure of a file (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp).
    subroutine nesf_structures_read(path, structures, status)
        character(len=*), intent(in) :: path
        type(nesf_structure), allocatable, intent(out) :: structures(:)
        integer, intent(out), optional :: status
        type(c_ptr) :: list
        integer(c_int) :: code
        code = c_structures_read(trim(path)//c_null_char, list)
        if (code /= NESF_SUCCESS) then
            allocate (structures(0))
            call fail(code, status)
            return
        end if
        code = from_c_list(list, structures)
        call c_structures_free(list)
        call report(code, status)
    end subroutine nesf_structures_read

    !> Writes structures to a file, the format chosen from its name.
    subroutine nesf_structures_write(path, structures, status)
        character(len=*), intent(in) :: path
        type(nesf_structure), intent(in) :: structures(:)
        integer, intent(out), optional :: status
        type(c_ptr) :: list
        integer(c_int) :: code
        character(len=:), allocatable :: why
        list = to_c_list(structures, code, why)
        if (code /= NESF_SUCCESS) then
            call fail_with(code, status, why)
            return
        end if
        code = c_structures_write(list, trim(path)//c_null_char)
        call c_structures_free(list)
        call report(code, status)
    end subroutine nesf_structures_write

end module nesf
