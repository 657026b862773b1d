! Example of the Fortran module: load a model, encode two structures, walk the line between
! their latents, decode it and write the structures found.
!
! usage: example_fortran MODEL.nesf STRUCTURES.extxyz OUTPUT.extxyz
program example
    use nesf
    use, intrinsic :: iso_c_binding, only: c_float, c_int32_t
    implicit none

    ! the work happens in a procedure, whose allocatable locals are freed when it returns
    call run()

contains

    subroutine run()
        character(len=4096) :: model_path, data_path, output
        type(nesf_model) :: model
        type(nesf_model_options) :: model_options
        type(nesf_decode_options) :: options
        type(nesf_structure), allocatable :: from_file(:), decoded(:), found(:)
        real(c_float), allocatable :: ends(:, :), line(:, :)
        integer(c_int32_t), allocatable :: species(:)
        character(len=:), allocatable :: ort_path, ort_version, provider
        integer :: i, n_found

        if (command_argument_count() /= 3) then
            write (*, '(a)') 'usage: example_fortran MODEL STRUCTURES OUTPUT'
            stop 2
        end if
        call get_command_argument(1, model_path)
        call get_command_argument(2, data_path)
        call get_command_argument(3, output)

        write (*, '(2a)') 'nesf ', nesf_version()
        call nesf_runtime_load(ort_path, ort_version)
        write (*, '(4a)') 'ONNX Runtime ', ort_version, ' from ', ort_path

        ! errors stop the program with nesf's message (pass status= to handle them yourself)
        call nesf_model_options_init(model_options)
        model_options%threads = 1
        call nesf_model_load(model, model_path, model_options)
        call nesf_model_species(model, species)
        call nesf_model_provider(model, provider)
        write (*, '(a, i0, a, i0, 2a)') 'model: latent size ', nesf_model_latent_size(model), ', ', &
            size(species), ' species, running on ', provider

        call nesf_structures_read(data_path, from_file)
        call nesf_model_encode(model, from_file(1:2), ends)          ! ends(latent_size, 2)
        call nesf_latents_interpolate(ends(:, 1), ends(:, 2), 4, line)

        call nesf_model_decode_options(model, options)
        ! light settings so the example runs in a moment; use the model's defaults for real work
        options%grid_step = 3.0d0
        options%steps = 2
        options%min_particles = 1
        options%n_species_offsets = 1
        options%species_offsets(1) = 0.0d0
        call nesf_model_decode(model, line, decoded, options)

        n_found = 0
        do i = 1, size(decoded)
            write (*, '(a, i0, a, i0, a, 3f8.3)') 'step ', i - 1, ': ', size(decoded(i)%numbers), &
                ' atoms, a b c lengths ', norm2(decoded(i)%lattice(:, 1)), &
                norm2(decoded(i)%lattice(:, 2)), norm2(decoded(i)%lattice(:, 3))
            if (size(decoded(i)%numbers) > 0) n_found = n_found + 1
        end do
        if (n_found > 0) then
            found = pack(decoded, [(size(decoded(i)%numbers) > 0, i=1, size(decoded))])
            call nesf_structures_write(output, found)
            write (*, '(a, i0, 2a)') 'wrote ', n_found, ' structures to ', trim(output)
        end if
        call nesf_model_free(model)
    end subroutine run

end program example
