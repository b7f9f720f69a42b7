//! Which weights the inference forward's projections read: the f32 parameters, bf16 copies
//! (`bf16.rs`, reduced precision) or exact Q4_1 / Q8_0 packings (`q4.rs`, `q8.rs`: the same
//! values in fewer bytes). Training always reads the f32 parameters.

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
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "packed" => Ok(Precision::Packed),
            other => Err(format!(
                "unknown precision `{other}`: use f32, packed (exact) or bf16 (reduced)"
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
