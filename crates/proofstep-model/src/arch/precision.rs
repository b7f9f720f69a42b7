//! Which weights the inference forward's projections read: the f32 parameters, bf16 copies
//! (`bf16.rs`, reduced precision), exact Q4_1 / Q8_0 packings (`q4.rs`, `q8.rs`: the same
//! values in fewer bytes) or ggml's Q8_0 / Q4_0 / Q4_K roundings (reduced precision). Training always
//! reads the f32 parameters. `Weights` is the user's choice (`--weights`): the exact values
//! (`f32`: trainable parameters; `auto`: held for inference, exact packings where they exist), or
//! a model held once in reduced precision, converted while it loads (`bf16`, `q8_0`, `q4_0`,
//! `q4_k`).

/// Which weights the inference forward's projections read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// The f32 parameters themselves (exact).
    #[default]
    F32,
    /// bf16 copies (8-bit mantissa, round to nearest even), f32 arithmetic.
    Bf16,
    /// Exact Q4_1 or Q8_0 packings where every block of a matrix is exactly `q · d + m` or
    /// `q · d` (a model imported from a GGUF of those types), else the f32 parameters: the
    /// same values either way.
    Packed,
    /// ggml's Q8_0: blocks of 32 rounded to `q · d`, `q` in -127..=127, `d` f16 (reduced).
    Q8_0,
    /// ggml's Q4_0: blocks of 32 rounded to `(q - 8) · d`, `q` in 0..=15, `d` f16 (reduced).
    Q4_0,
    /// ggml's Q4_K: super-blocks of 256 with f16 `d`, `dmin` and 6-bit sub-block scales and
    /// mins, `q · d·sc − dmin·m` (`q4k.rs`; reduced). Matrices whose rows are not whole
    /// super-blocks are rounded to Q8_0 instead.
    Q4K,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "packed" => Ok(Precision::Packed),
            "q8_0" => Ok(Precision::Q8_0),
            "q4_0" => Ok(Precision::Q4_0),
            "q4_k" => Ok(Precision::Q4K),
            other => Err(format!(
                "unknown precision `{other}`: use f32, packed (exact), bf16, q8_0, q4_0 or \
                 q4_k (reduced)"
            )),
        }
    }
}

impl Precision {
    /// The precision of the LM head (and of an embedding tied to it) when the projections
    /// read `self`: Q8_0 under Q4_0 and Q4_K, as llama.cpp keeps its output matrix above 4
    /// bits (the head's rounding moves every logit), else the same.
    pub fn of_head(self) -> Precision {
        match self {
            Precision::Q4_0 | Precision::Q4K => Precision::Q8_0,
            p => p,
        }
    }
}

/// The weights a command loads (`--weights`): what every command that loads a model offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Weights {
    /// Exact: the f32 values, matrices that are exactly Q4_1 / Q8_0 blocks (a GGUF import)
    /// held packed instead, on a CPU with AVX-512 or AVX2 (inference only).
    #[default]
    Auto,
    /// The f32 parameters, nothing packed (trainable).
    F32,
    /// bf16, held once (no f32 copy): half of f32's bytes, reduced precision.
    Bf16,
    /// ggml's Q8_0, held once: 36 bytes per 32 weights, reduced precision.
    Q8_0,
    /// ggml's Q4_0, held once (LM head Q8_0): 20 bytes per 32 weights, reduced precision.
    Q4_0,
    /// ggml's Q4_K, held once (LM head Q8_0): 152 bytes per 256 weights, reduced precision.
    Q4K,
}

impl Weights {
    /// The reduced precision a model loaded this way is held in with no f32 copy (`None`:
    /// the model's exact values; see `load_model_with`).
    pub fn held(self) -> Option<Precision> {
        match self {
            Weights::Auto | Weights::F32 => None,
            Weights::Bf16 => Some(Precision::Bf16),
            Weights::Q8_0 => Some(Precision::Q8_0),
            Weights::Q4_0 => Some(Precision::Q4_0),
            Weights::Q4K => Some(Precision::Q4K),
        }
    }

    /// Whether the model computes something else than its f32 weights would (labelled so in
    /// outputs and reports).
    pub fn is_reduced(self) -> bool {
        self.held().is_some()
    }

    /// The flag's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Weights::Auto => "auto",
            Weights::F32 => "f32",
            Weights::Bf16 => "bf16",
            Weights::Q8_0 => "q8_0",
            Weights::Q4_0 => "q4_0",
            Weights::Q4K => "q4_k",
        }
    }
}

impl std::fmt::Display for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Weights {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" | "packed" => Ok(Weights::Auto),
            "f32" => Ok(Weights::F32),
            "bf16" => Ok(Weights::Bf16),
            "q8_0" => Ok(Weights::Q8_0),
            "q4_0" => Ok(Weights::Q4_0),
            "q4_k" => Ok(Weights::Q4K),
            other => Err(format!(
                "unknown weights `{other}`: use auto (exact, the default), f32 (exact), or \
                 bf16, q8_0, q4_0, q4_k (reduced precision, less memory)"
            )),
        }
    }
}

/// What `set_precision` did: how many projections read a copy instead of the f32 weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrecisionReport {
    /// Projections whose inference weights are now a bf16 copy or a Q4_1 / Q8_0 packing.
    pub converted: usize,
    /// Projections of the model (the LM head included).
    pub total: usize,
}

impl PrecisionReport {
    /// Adds one projection's outcome.
    pub fn add(&mut self, converted: bool) {
        self.converted += usize::from(converted);
        self.total += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_weights_name_parses_back_and_only_auto_and_f32_keep_parameters() {
        for w in [
            Weights::Auto,
            Weights::F32,
            Weights::Bf16,
            Weights::Q8_0,
            Weights::Q4_0,
            Weights::Q4K,
        ] {
            assert_eq!(w.name().parse::<Weights>().unwrap(), w);
            assert_eq!(w.is_reduced(), !matches!(w, Weights::Auto | Weights::F32));
        }
        let err = "q5_k".parse::<Weights>().unwrap_err();
        assert!(err.contains("q8_0") && err.contains("auto"), "{err}");
    }
}
