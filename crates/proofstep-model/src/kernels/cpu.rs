//! Which instruction sets the kernels may use: what this CPU has, capped by the environment
//! variable `PROOFSTEP_CPU`. Every kernel asks here, never the CPU directly, so one setting
//! moves all of them down together: `scalar`, `avx2` (AVX2, FMA, F16C; no AVX-512), `avx512`
//! (AVX-512 and its VNNI, no AMX) or `native` (everything the CPU and OS grant; the default).
//! It exists for a virtual machine that advertises an instruction set it then faults on (AMX
//! under some hypervisors), and to run a narrower CPU's kernels on a wider one (benchmarks
//! README, "real_size"). From `avx2` up the int8 kernels give bit-identical results; the f32
//! and bf16 ones sum in another order and agree to rounding; `scalar` reads the same weight
//! roundings with f32 activations. Not capped: candle's matrix products (the `gemm` crate,
//! which picks its own instruction set: a prompt's attention products, f32 projections of
//! many rows, training).

use std::sync::OnceLock;

/// The environment variable that caps the instruction sets.
pub const ENV: &str = "PROOFSTEP_CPU";

/// How far up the kernels may go, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Portable Rust only.
    Scalar,
    /// AVX2, FMA and F16C.
    Avx2,
    /// AVX-512 (F, BW, VL, VNNI) besides AVX2.
    Avx512,
    /// Everything the CPU and OS grant, AMX included.
    Native,
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(Level::Scalar),
            "avx2" => Ok(Level::Avx2),
            "avx512" => Ok(Level::Avx512),
            "native" | "" => Ok(Level::Native),
            other => Err(format!(
                "{ENV}={other:?} is not an instruction-set level: use scalar, avx2, avx512 or native (or unset it)"
            )),
        }
    }
}

/// The cap `PROOFSTEP_CPU` asks for, or the error that says what to set instead. The CLI
/// calls this at start so a mistyped value stops the run rather than silently meaning
/// `native`.
pub fn requested() -> Result<Level, String> {
    match std::env::var(ENV) {
        Ok(v) => v.parse(),
        Err(std::env::VarError::NotPresent) => Ok(Level::Native),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "{ENV} is not valid UTF-8: use scalar, avx2, avx512 or native"
        )),
    }
}

/// The cap in force (read once; an invalid value, already refused by the CLI, means `native`).
pub fn cap() -> Level {
    static CAP: OnceLock<Level> = OnceLock::new();
    *CAP.get_or_init(|| requested().unwrap_or(Level::Native))
}

/// Whether the CPU has every feature named (never off x86-64): the one place that asks it.
macro_rules! detected {
    ($($feature:tt),+) => {{
        #[cfg(target_arch = "x86_64")]
        let found = true $(&& is_x86_feature_detected!($feature))+;
        #[cfg(not(target_arch = "x86_64"))]
        let found = false;
        found
    }};
}

/// AVX2 alone (the activations' rounding).
pub fn avx2() -> bool {
    cap() >= Level::Avx2 && detected!("avx2")
}

/// AVX2 and FMA (the f32 / bf16 tiles, attention, `exp`).
pub fn avx2_fma() -> bool {
    avx2() && detected!("fma")
}

/// AVX2, FMA and F16C (the interleaved int8 kernel, which reads f16 scales).
pub fn avx2_fma_f16c() -> bool {
    avx2_fma() && detected!("f16c")
}

/// AVX-512 F and BW (the 512-bit f32 / bf16 / packed tiles).
pub fn avx512() -> bool {
    cap() >= Level::Avx512 && detected!("avx512f", "avx512bw")
}

/// AVX-512 VNNI and VL (`vpdpbusd`, on 256- or 512-bit registers).
pub fn avx512_vnni() -> bool {
    cap() >= Level::Avx512 && detected!("avx512vnni", "avx512vl")
}

/// Whether the cap lets AMX run (the CPU and OS checks are `matvec_x8_amx::available`'s).
pub fn amx_allowed() -> bool {
    cap() >= Level::Native
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_bad_values_name_the_fix() {
        assert_eq!("avx2".parse::<Level>(), Ok(Level::Avx2));
        assert_eq!(" AVX512 ".parse::<Level>(), Ok(Level::Avx512));
        assert_eq!("".parse::<Level>(), Ok(Level::Native));
        assert!(Level::Scalar < Level::Avx2 && Level::Avx512 < Level::Native);
        let e = "avx-2".parse::<Level>().unwrap_err();
        assert!(e.contains("PROOFSTEP_CPU") && e.contains("avx2"), "{e}");
    }
}
