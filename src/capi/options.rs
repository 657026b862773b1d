//! Option structs: how to run a model (`nesf_model_options_t`) and how to decode
//! (`nesf_decode_options_t`). Both start with `struct_size`, which the caller sets to the
//! `sizeof` it was compiled with, so fields can be appended in later versions without
//! breaking programs built against this one.

use crate::decode::{DecodeOptions, SpeciesVote};
use crate::model::{ModelOptions, Provider};

use super::status::nesf_status_t;
use super::status::{guard, reference, CResult, CapiError};

/// Run the networks on the CPU (always available).
pub const NESF_PROVIDER_CPU: i32 = 0;
/// Run the networks on an NVIDIA GPU through CUDA (needs a GPU build of ONNX Runtime).
pub const NESF_PROVIDER_CUDA: i32 = 1;
/// Species vote: the majority of the points' argmax classes (the paper's).
pub const NESF_SPECIES_VOTE_MAJORITY: i32 = 0;
/// Species vote: the class of the largest summed probability.
pub const NESF_SPECIES_VOTE_PROBABILITY: i32 = 1;
/// The most species-vote offsets `nesf_decode_options_t` holds.
pub const NESF_MAX_SPECIES_OFFSETS: usize = 16;

/// How to run a model. Set `struct_size = sizeof(nesf_model_options_t)`, then call
/// `nesf_model_options_init()` for the defaults before changing fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nesf_model_options_t {
    /// `sizeof(nesf_model_options_t)` as the caller was compiled with.
    pub struct_size: usize,
    /// `NESF_PROVIDER_CPU` (default) or `NESF_PROVIDER_CUDA`.
    pub provider: i32,
    /// CUDA device number (with `NESF_PROVIDER_CUDA`). Default 0.
    pub device_id: i32,
    /// When the provider cannot run: false (default) makes loading fail with the reason; true
    /// runs on the CPU instead, which `nesf_model_provider()` then reports.
    pub allow_fallback: bool,
    /// ONNX Runtime intra-op threads per network; 0 (default) lets ONNX Runtime choose.
    pub threads: usize,
    /// Most query points sent to ONNX Runtime in one run (bounds memory). Default 65536.
    pub max_points_per_run: usize,
}

/// Settings of the decoder. Set `struct_size = sizeof(nesf_decode_options_t)`, then fill it
/// with `nesf_decode_options_init()` (the paper's settings) or `nesf_model_decode_options()`
/// (the model's defaults) before changing fields. Lengths in Å.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nesf_decode_options_t {
    /// `sizeof(nesf_decode_options_t)` as the caller was compiled with.
    pub struct_size: usize,
    /// Spacing (Å) of the initial particle grid over the model's bounding box. Paper: 0.5.
    pub grid_step: f64,
    /// Moves of every particle along the position field. Paper: 64.
    pub steps: usize,
    /// Particles whose last move is longer than this (Å) are discarded. Paper: 0.9.
    pub max_last_step: f64,
    /// Non-maximum-suppression radius (Å). Paper: 0.5.
    pub nms_radius: f64,
    /// A cluster needs at least this many particles to become an atom. Paper: 10.
    pub min_particles: usize,
    /// Structures whose particles go to the networks in one run. Paper: 32.
    pub batch_size: usize,
    /// Number of valid entries of `species_offsets` (1 to `NESF_MAX_SPECIES_OFFSETS`).
    pub n_species_offsets: usize,
    /// Offsets (Å) along each axis of the species-vote grid around every atom.
    /// Paper: -0.3, -0.2, -0.1, 0, 0.1, 0.2.
    pub species_offsets: [f64; NESF_MAX_SPECIES_OFFSETS],
    /// Fast flow: retire a particle once its move is shorter than this (Å); 0 never does (the
    /// paper's decoder). Default 0.003. This field and the two after it were appended to the
    /// first layout: a caller built against an older header gets their defaults.
    pub retire_below: f64,
    /// Fast flow: a particle landing in the same cube of this edge (Å) as another one of its
    /// structure follows it from then on; 0 never merges (the paper's decoder). Default 0.03.
    pub merge_below: f64,
    /// Fast flow: drop a particle once it is farther than this (Å) outside the model's box; 0
    /// never does (the paper's decoder). Default 0.
    pub drop_outside: f64,
    /// `NESF_SPECIES_VOTE_MAJORITY` (the paper's, default) or `NESF_SPECIES_VOTE_PROBABILITY`.
    /// Appended to the first layout, as `retire_below`.
    pub species_vote: i32,
    /// Always 0 (written by the library, ignored when read): makes the struct free of padding
    /// bytes, so that two option structs compare equal with `memcmp`.
    pub reserved: i32,
    /// Symmetrised decoding: snap each decoded structure to the space group found at this
    /// position tolerance (Å), lattice and sites refined, atoms the group makes one merged; a
    /// structure with no group found stays as decoded. 0 (default) never symmetrises.
    /// Appended after `reserved`: a caller built against an older header gets 0.
    pub symprec: f64,
    /// Most particles one batch may hold (grid points x structures per batch); a decode that
    /// needs more fails before allocating. Default 16777216 (~50 bytes each). Appended with
    /// `symprec`.
    pub max_particles: usize,
}

const _: () = assert!(NESF_MAX_SPECIES_OFFSETS == crate::decode::options::MAX_SPECIES_OFFSETS);

fn size_error(name: &str, type_name: &str, got: usize, layouts: &[usize]) -> CapiError {
    let want = layouts.last().copied().unwrap_or(0);
    let older: Vec<String> = layouts[..layouts.len().saturating_sub(1)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    CapiError::invalid(format!(
        "{name}->struct_size is {got}, but this library's {type_name} has size {want} (and \
         accepts the older layouts' sizes {}): set struct_size = sizeof({type_name})",
        if older.is_empty() {
            "none".to_string()
        } else {
            older.join(", ")
        }
    ))
}

/// The caller's `struct_size` (the first field), checked to be the size of one of the
/// `layouts` (every released layout's size, oldest first; the last is this library's).
///
/// # Safety
/// `ptr` is NULL or points to a readable `size_t`.
unsafe fn caller_size<T>(
    ptr: *const T,
    name: &str,
    type_name: &str,
    layouts: &[usize],
) -> CResult<usize> {
    // SAFETY: forwarded contract; only the leading size_t is read.
    let size = unsafe { *reference(ptr.cast::<usize>(), name)? };
    debug_assert_eq!(layouts.last(), Some(&std::mem::size_of::<T>()));
    if !layouts.contains(&size) {
        return Err(size_error(name, type_name, size, layouts));
    }
    Ok(size)
}

/// A copy of an options struct of a caller compiled with this or an older header: its first
/// `struct_size` bytes over `defaults` (fields appended since keep their defaults).
///
/// # Safety
/// `ptr` is NULL or points to a readable struct whose first field is a `size_t` holding the
/// number of readable bytes.
unsafe fn read_sized<T: Copy>(
    ptr: *const T,
    name: &str,
    type_name: &str,
    layouts: &[usize],
    defaults: T,
) -> CResult<T> {
    // SAFETY: forwarded contract.
    let size = unsafe { caller_size(ptr, name, type_name, layouts)? };
    let mut value = defaults;
    // SAFETY: the caller says `size` bytes are readable; `value` is a whole T and
    // size <= size_of::<T>(); the regions are distinct. `size` is a released layout's size,
    // so every field copied is whole.
    unsafe {
        std::ptr::copy_nonoverlapping(
            ptr.cast::<u8>(),
            std::ptr::addr_of_mut!(value).cast::<u8>(),
            size,
        )
    };
    Ok(value)
}

/// Overwrites an options struct of a caller compiled with this or an older header: every
/// field after `struct_size` that its layout has.
///
/// # Safety
/// `ptr` is NULL or points to a writable struct whose first field is a `size_t` holding the
/// number of writable bytes.
unsafe fn write_sized<T>(
    ptr: *mut T,
    name: &str,
    type_name: &str,
    layouts: &[usize],
    value: T,
) -> CResult {
    // SAFETY: forwarded contract.
    let size = unsafe { caller_size(ptr.cast_const(), name, type_name, layouts)? };
    let skip = std::mem::size_of::<usize>();
    // SAFETY: `caller_size` read through the pointer, so it is non-NULL and aligned (every
    // options struct has the alignment of its leading size_t); bytes skip..size are the
    // caller's and writable, and lie inside `value` since size <= size_of::<T>(); the caller's
    // struct_size stays as it is. No reference to a whole T is formed, as the caller's struct
    // may be an older, shorter one.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::addr_of!(value).cast::<u8>().add(skip),
            ptr.cast::<u8>().add(skip),
            size - skip,
        )
    };
    Ok(())
}

/// Sizes of every released `nesf_model_options_t` layout (nothing appended yet).
const MODEL_OPTIONS_LAYOUTS: [usize; 1] = [std::mem::size_of::<nesf_model_options_t>()];
/// Sizes of every released `nesf_decode_options_t` layout, oldest first: the first (up to
/// `species_offsets`), then with the fast flow and species vote (up to `reserved`), then with
/// `symprec` and `max_particles`.
const DECODE_OPTIONS_LAYOUTS: [usize; 3] = [
    std::mem::offset_of!(nesf_decode_options_t, retire_below),
    std::mem::offset_of!(nesf_decode_options_t, symprec),
    std::mem::size_of::<nesf_decode_options_t>(),
];

impl nesf_model_options_t {
    fn from_options(o: &ModelOptions) -> Self {
        let (provider, device_id) = match o.provider {
            Provider::Cpu => (NESF_PROVIDER_CPU, 0),
            Provider::Cuda { device_id } => (NESF_PROVIDER_CUDA, device_id),
        };
        nesf_model_options_t {
            struct_size: std::mem::size_of::<Self>(),
            provider,
            device_id,
            allow_fallback: o.allow_fallback,
            threads: o.threads,
            max_points_per_run: o.max_points_per_run,
        }
    }

    fn to_options(self) -> CResult<ModelOptions> {
        let provider = match self.provider {
            NESF_PROVIDER_CPU => Provider::Cpu,
            NESF_PROVIDER_CUDA => Provider::Cuda {
                device_id: self.device_id,
            },
            other => {
                return Err(CapiError::invalid(format!(
                "options->provider is {other}, expected NESF_PROVIDER_CPU ({NESF_PROVIDER_CPU}) \
                     or NESF_PROVIDER_CUDA ({NESF_PROVIDER_CUDA})"
            )))
            }
        };
        if self.max_points_per_run == 0 {
            return Err(CapiError::invalid(
                "options->max_points_per_run must be at least 1",
            ));
        }
        Ok(ModelOptions {
            provider,
            allow_fallback: self.allow_fallback,
            threads: self.threads,
            runtime_path: None,
            max_points_per_run: self.max_points_per_run,
        })
    }
}

/// Model options from a caller's struct; NULL gives the defaults.
///
/// # Safety
/// `ptr` is NULL or points to a readable `nesf_model_options_t`.
pub(crate) unsafe fn model_options(ptr: *const nesf_model_options_t) -> CResult<ModelOptions> {
    if ptr.is_null() {
        return Ok(ModelOptions::default());
    }
    let defaults = nesf_model_options_t::from_options(&ModelOptions::default());
    // SAFETY: forwarded contract.
    unsafe {
        read_sized(
            ptr,
            "options",
            "nesf_model_options_t",
            &MODEL_OPTIONS_LAYOUTS,
            defaults,
        )
    }?
    .to_options()
}

impl nesf_decode_options_t {
    fn from_options(o: &DecodeOptions) -> CResult<Self> {
        let n = o.species_offsets.len();
        if n > NESF_MAX_SPECIES_OFFSETS {
            return Err(CapiError::invalid(format!(
                "the decode options have {n} species offsets, more than the \
                 NESF_MAX_SPECIES_OFFSETS ({NESF_MAX_SPECIES_OFFSETS}) the C struct holds"
            )));
        }
        let mut species_offsets = [0.0; NESF_MAX_SPECIES_OFFSETS];
        species_offsets[..n].copy_from_slice(&o.species_offsets);
        Ok(nesf_decode_options_t {
            struct_size: std::mem::size_of::<Self>(),
            grid_step: o.grid_step,
            steps: o.steps,
            max_last_step: o.max_last_step,
            nms_radius: o.nms_radius,
            min_particles: o.min_particles,
            batch_size: o.batch_size,
            n_species_offsets: n,
            species_offsets,
            retire_below: o.retire_below,
            merge_below: o.merge_below,
            drop_outside: o.drop_outside,
            species_vote: match o.species_vote {
                SpeciesVote::Majority => NESF_SPECIES_VOTE_MAJORITY,
                SpeciesVote::Probability => NESF_SPECIES_VOTE_PROBABILITY,
            },
            reserved: 0,
            symprec: o.symprec,
            max_particles: o.max_particles,
        })
    }

    fn to_options(self) -> CResult<DecodeOptions> {
        let n = self.n_species_offsets;
        if n == 0 || n > NESF_MAX_SPECIES_OFFSETS {
            return Err(CapiError::invalid(format!(
                "options->n_species_offsets is {n}, expected 1 to {NESF_MAX_SPECIES_OFFSETS}"
            )));
        }
        let species_vote = match self.species_vote {
            NESF_SPECIES_VOTE_MAJORITY => SpeciesVote::Majority,
            NESF_SPECIES_VOTE_PROBABILITY => SpeciesVote::Probability,
            other => {
                return Err(CapiError::invalid(format!(
                    "options->species_vote is {other}, expected NESF_SPECIES_VOTE_MAJORITY \
                     ({NESF_SPECIES_VOTE_MAJORITY}) or NESF_SPECIES_VOTE_PROBABILITY \
                     ({NESF_SPECIES_VOTE_PROBABILITY})"
                )))
            }
        };
        let options = DecodeOptions {
            species_vote,
            grid_step: self.grid_step,
            steps: self.steps,
            max_last_step: self.max_last_step,
            nms_radius: self.nms_radius,
            min_particles: self.min_particles,
            species_offsets: self.species_offsets[..n].to_vec(),
            batch_size: self.batch_size,
            retire_below: self.retire_below,
            merge_below: self.merge_below,
            drop_outside: self.drop_outside,
            symprec: self.symprec,
            max_particles: self.max_particles,
        };
        options.validate()?;
        Ok(options)
    }
}

/// Decode options from a caller's struct; NULL gives `default`.
///
/// # Safety
/// `ptr` is NULL or points to a readable `nesf_decode_options_t`.
pub(crate) unsafe fn decode_options(
    ptr: *const nesf_decode_options_t,
    default: &DecodeOptions,
) -> CResult<DecodeOptions> {
    if ptr.is_null() {
        return Ok(default.clone());
    }
    let defaults = nesf_decode_options_t::from_options(default)?;
    // SAFETY: forwarded contract.
    unsafe {
        read_sized(
            ptr,
            "options",
            "nesf_decode_options_t",
            &DECODE_OPTIONS_LAYOUTS,
            defaults,
        )
    }?
    .to_options()
}

/// Fills a decode-options struct from Rust options.
///
/// # Safety
/// `ptr` is NULL or points to a writable `nesf_decode_options_t`.
pub(crate) unsafe fn write_decode_options(
    ptr: *mut nesf_decode_options_t,
    options: &DecodeOptions,
) -> CResult {
    let value = nesf_decode_options_t::from_options(options)?;
    // SAFETY: forwarded contract.
    unsafe {
        write_sized(
            ptr,
            "options",
            "nesf_decode_options_t",
            &DECODE_OPTIONS_LAYOUTS,
            value,
        )
    }
}

/// Fills `options` with the defaults: CPU, no fallback, ONNX Runtime's choice of threads,
/// 65536 points per run. `options->struct_size` must be set first.
///
/// # Safety
/// `options` is NULL or points to a `nesf_model_options_t` whose `struct_size` is set (the
/// other fields may be uninitialised), readable and writable for `struct_size` bytes. NULL is
/// reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and structs shorter than their
/// `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_options_init(
    options: *mut nesf_model_options_t,
) -> nesf_status_t {
    guard("nesf_model_options_init", || {
        let value = nesf_model_options_t::from_options(&ModelOptions::default());
        // SAFETY: the caller's contract.
        unsafe {
            write_sized(
                options,
                "options",
                "nesf_model_options_t",
                &MODEL_OPTIONS_LAYOUTS,
                value,
            )
        }
    })
}

/// Fills `options` with the paper's decoder settings. `options->struct_size` must be set
/// first. A model may have its own defaults: see `nesf_model_decode_options()`.
///
/// # Safety
/// `options` is NULL or points to a `nesf_decode_options_t` whose `struct_size` is set (the
/// other fields may be uninitialised), readable and writable for `struct_size` bytes. NULL is
/// reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and structs shorter than their
/// `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_decode_options_init(
    options: *mut nesf_decode_options_t,
) -> nesf_status_t {
    guard("nesf_decode_options_init", || {
        // SAFETY: the caller's contract.
        unsafe { write_decode_options(options, &DecodeOptions::default()) }
    })
}
