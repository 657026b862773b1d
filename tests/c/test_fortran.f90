! The Fortran module: results in allocatable arrays with the documented layout, errors through
! status codes and messages.
!
! usage: test_fortran MODEL.nesf STRUCTURES.extxyz OUTPUT_DIR
program test_fortran
    use nesf
    use, intrinsic :: iso_c_binding, only: c_float, c_double, c_int32_t
    implicit none
    integer :: failures = 0

    ! the work happens in a procedure, whose allocatable locals are freed when it returns
    call run()
    if (failures > 0) then
        write (*, '(a, i0, a)') 'test_fortran: ', failures, ' failure(s)'
        stop 1
    end if

contains

    subroutine run()
        character(len=4096) :: model_path, data_path, dir
        type(nesf_model) :: model, missing
        type(nesf_model_options) :: model_options
        type(nesf_decode_options) :: options, paper
        type(nesf_structure), allocatable :: from_file(:), decoded(:), back(:), bad(:)
        type(nesf_structure) :: salt(1)
        real(c_float), allocatable :: latents(:, :), line(:, :)
        integer(c_int32_t), allocatable :: species(:)
        character(len=:), allocatable :: ort_path, ort_version, provider
        integer :: status, i, kept
        integer(c_int32_t) :: provider_code

        call get_command_argument(1, model_path)
        call get_command_argument(2, data_path)
        call get_command_argument(3, dir)

        call check(len(nesf_version()) >= 5, 'version')
        call nesf_runtime_load(ort_path, ort_version, status=status)
        call check(status == NESF_SUCCESS .and. index(ort_path, 'onnxruntime') > 0, 'runtime')

        ! errors come back as status codes with a message
        call nesf_model_load(missing, trim(dir)//'/missing.nesf', status=status)
        call check(status == NESF_ERROR_IO, 'missing model status')
        call check(index(nesf_last_error(), 'missing.nesf') > 0, 'missing model message')
        call nesf_model_load_default(missing, status=status)
        call check(status == NESF_SUCCESS, 'default model')
        call check(nesf_model_latent_size(missing) == 192, 'default model latent size')
        call nesf_model_free(missing)

        call nesf_model_options_init(model_options)
        model_options%threads = 1
        call nesf_model_load(model, model_path, model_options, status)
        call check(status == NESF_SUCCESS, 'load')
        call check(nesf_model_latent_size(model) == 192, 'latent size')
        call nesf_model_species(model, species)
        call check(size(species) > 1, 'species')
        call check(all(species(2:) > species(:size(species) - 1)), 'species ascending')
        call nesf_model_provider(model, provider, provider_code)
        call check(provider == 'CPU' .and. provider_code == NESF_PROVIDER_CPU, 'provider')

        call nesf_decode_options_init(paper)
        call check(paper%steps == 64 .and. paper%n_species_offsets == 6, 'paper options')
        call check(abs(paper%species_offsets(1) + 0.3d0) < 1d-12, 'paper offsets')
        call check(paper%retire_below > 0, 'fast flow by default')
        call check(paper%symprec == 0, 'no symmetrisation by default')
        call check(paper%species_vote == NESF_SPECIES_VOTE_MAJORITY, 'majority vote')
        call nesf_decode_options_exact(paper)
        call check(paper%retire_below == 0 .and. paper%merge_below == 0 .and. &
                   paper%drop_outside == 0, 'exact options')

        ! structures: positions(3, n), lattice(:, 1) = a
        call nesf_structures_read(data_path, from_file)
        call check(size(from_file) == 100, 'read count')
        call check(size(from_file(1)%numbers) == 13 .and. from_file(1)%numbers(1) == 56, 'numbers')
        call check(size(from_file(1)%positions, 1) == 3 .and. size(from_file(1)%positions, 2) == 13, 'shape')
        call check(abs(from_file(1)%positions(3, 1) - 2.65779933d0) < 1d-9, 'position z of atom 1')
        call check(abs(from_file(1)%lattice(1, 1) - 3.857566d0) < 1d-9, 'a_x')
        call check(abs(from_file(1)%lattice(3, 3) - 12.990539d0) < 1d-9, 'c_z')
        call check(from_file(1)%lattice(3, 1) == 0 .and. from_file(1)%lattice(1, 3) == 0, 'lattice layout')
        call check(.not. allocated(from_file(1)%confidence), 'no confidence')
        call check(from_file(1)%has_cell, 'has cell')
        call check(abs(from_file(1)%lengths(1) - 3.857566d0) < 1d-9, 'length a')
        call check(abs(from_file(1)%angles(3) - 90d0) < 1d-6, 'angle gamma')
        call check(allocated(from_file(1)%id), 'id read')
        call check(.not. allocated(from_file(1)%failure), 'no failure for a read structure')
        if (allocated(from_file(1)%id)) call check(from_file(1)%id == 'mvc-2980', 'id value')

        ! a structure made in Fortran, written and read back
        salt(1)%lattice = reshape([5.64d0, 0d0, 0d0, 0d0, 5.64d0, 0d0, 0d0, 0d0, 5.64d0], [3, 3])
        salt(1)%positions = reshape([0d0, 0d0, 0d0, 2.82d0, 2.82d0, 2.82d0], [3, 2])
        salt(1)%numbers = [11, 17]
        salt(1)%id = 'rock_salt'
        call nesf_structures_write(trim(dir)//'/salt.cif', salt, status)
        call check(status == NESF_SUCCESS, 'write cif')
        call nesf_structures_read(trim(dir)//'/salt.cif', back, status)
        call check(status == NESF_SUCCESS .and. size(back) == 1, 'read cif')
        call check(all(back(1)%numbers == [11, 17]), 'cif numbers')
        call check(allocated(back(1)%id), 'cif id')
        if (allocated(back(1)%id)) call check(back(1)%id == 'rock_salt', 'cif block name')
        call check(maxval(abs(back(1)%positions - salt(1)%positions)) < 1d-6, 'cif positions')

        ! garbage: unknown element, wrong shapes, unknown format
        salt(1)%numbers = [11, 0]
        call nesf_structures_write(trim(dir)//'/bad.cif', salt, status)
        call check(status == NESF_ERROR_UNKNOWN_ELEMENT, 'unknown element')
        call check(index(nesf_last_error(), 'atomic number 0') > 0, 'unknown element message')
        allocate (bad(1))
        bad(1)%lattice = salt(1)%lattice
        allocate (bad(1)%positions(3, 1), bad(1)%numbers(2))
        bad(1)%positions = 0
        bad(1)%numbers = 11
        call nesf_structures_write(trim(dir)//'/bad.cif', bad, status)
        call check(status == NESF_ERROR_INVALID_ARGUMENT, 'shape status')
        call check(index(nesf_last_error(), 'shape') > 0, 'shape message')
        salt(1)%numbers = [11, 17]
        call nesf_structures_write(trim(dir)//'/salt.pdb', salt, status)
        call check(status == NESF_ERROR_INVALID_ARGUMENT, 'unknown format')
        call check(index(nesf_last_error(), 'unknown file format') > 0, 'format message')

        ! encode, interpolate, decode: latents(latent_size, n)
        call nesf_model_encode(model, from_file(1:3), latents, status)
        call check(status == NESF_SUCCESS, 'encode')
        call check(size(latents, 1) == 192 .and. size(latents, 2) == 3, 'latents shape')
        call nesf_latents_interpolate(latents(:, 1), latents(:, 2), 3, line, status)
        call check(status == NESF_SUCCESS .and. size(line, 2) == 3, 'interpolate')
        call check(all(line(:, 1) == latents(:, 1)) .and. all(line(:, 3) == latents(:, 2)), 'ends')
        call nesf_latents_interpolate(latents(:, 1), latents(1:5, 2), 3, line, status)
        call check(status == NESF_ERROR_INVALID_ARGUMENT, 'interpolate sizes')
        call check(index(nesf_last_error(), 'one size') > 0, 'interpolate message')

        call nesf_model_decode_options(model, options)
        options%grid_step = 2.0d0
        options%steps = 2
        options%min_particles = 1
        options%n_species_offsets = 1
        options%species_offsets(1) = 0.0d0
        call nesf_model_decode(model, latents, decoded, options, status)
        call check(status == NESF_SUCCESS .and. size(decoded) == 3, 'decode')
        kept = 0
        do i = 1, size(decoded)
            call check(allocated(decoded(i)%confidence), 'decoded confidence')
            call check(size(decoded(i)%confidence) == size(decoded(i)%numbers), 'confidence size')
            call check(size(decoded(i)%positions, 2) == size(decoded(i)%numbers), 'decoded shape')
            call check(all(decoded(i)%lengths /= 0), 'decoded lattice parameters')
            if (size(decoded(i)%numbers) > 0) then
                call check(all(decoded(i)%confidence >= 0 .and. decoded(i)%confidence <= 1), &
                           'confidence range')
                kept = kept + 1
            end if
        end do
        options%symprec = 0.1d0
        call nesf_model_decode(model, latents, decoded, options, status)
        call check(status == NESF_SUCCESS .and. size(decoded) == 3, 'symmetrised decode')
        options%symprec = -1
        call nesf_model_decode(model, latents, decoded, options, status)
        call check(index(nesf_last_error(), 'symprec') > 0, 'bad symprec message')
        options%symprec = 0
        options%steps = 0
        call nesf_model_decode(model, latents, decoded, options, status)
        call check(status == NESF_ERROR_INVALID_ARGUMENT, 'bad options')
        call check(index(nesf_last_error(), 'steps') > 0, 'bad options message')
        call nesf_model_decode(model, latents(1:100, :), decoded, status=status)
        call check(status == NESF_ERROR_INVALID_ARGUMENT, 'wrong latent size')

        call nesf_model_free(model)
        call nesf_model_free(model) ! a second free is harmless
        if (failures == 0) then
            write (*, '(a, i0, a)') 'test_fortran: all checks passed (', kept, ' non-empty decoded)'
        end if
    end subroutine run

    subroutine check(condition, what)
        logical, intent(in) :: condition
        character(len=*), intent(in) :: what
        if (.not. condition) then
            write (*, '(2a)') 'failed: ', what
            failures = failures + 1
        end if
    end subroutine check

end program test_fortran
