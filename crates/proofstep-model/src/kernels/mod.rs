//! CPU kernels: the decoding step's `x · Wᵀ` for a few rows (`matvec`, with AMX, AVX-512 and
//! AVX2/FMA tiles; weights f32, bf16 copies, exact Q4_1 / Q8_0 packings or ggml's Q8_0 / Q4_0 / Q4_K roundings), the decoding
//! step's attention, the activations' int8 rounding for the integer kernels, exact GELU across threads, one f32 matrix product through `gemm` for the fused training ops, and a
//! vectorized `exp`. No gradients here: `autograd` builds the differentiable ops on them.

pub mod activations_q8;
pub mod bf16;
pub mod cpu;
pub mod decode_attention;
pub mod gelu;
pub mod gemm_f32;
pub mod matvec;
#[cfg(target_arch = "x86_64")]
mod matvec_avx2;
#[cfg(target_arch = "x86_64")]
mod matvec_avx512;
#[cfg(target_arch = "x86_64")]
mod matvec_x8;
#[cfg(target_arch = "x86_64")]
mod matvec_x8_amx;
#[cfg(target_arch = "x86_64")]
mod matvec_x8_zmm;
pub mod pending;
pub mod q4;
pub mod q4k;
pub mod q8;
pub mod vexp;
pub mod x8;

/// The widest instruction set the kernels may use here, after `cpu`'s cap: `amx`, `avx512-vnni`,
/// `avx512`, `avx2` or `scalar` (a kernel uses it where it has a path for it: AMX multiplies
/// Q8_0 only). Benchmarks record it beside their figures.
pub fn instruction_set() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if matvec_x8_amx::available() {
            return "amx";
        }
        if matvec_x8_zmm::available() {
            return "avx512-vnni";
        }
    }
    if cpu::avx512() {
        "avx512"
    } else if cpu::avx2_fma_f16c() {
        "avx2"
    } else {
        "scalar"
    }
}
