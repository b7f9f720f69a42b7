//! Model folders holding their matrices converted (`proofstep model quantize`): loading one
//! copies the stored blocks instead of rounding every weight again, so a 2.8B model loads in
//! the time its file takes to read. The folder is a Hugging Face folder (config.json, the
//! tokenizer files) whose `model.safetensors` holds, per matrix `N` as the held model keeps it:
//!
//! - `N.bf16` (BF16 `[rows, cols]`);
//! - ggml's row-major blocks: `N.q8_0.d` (F16 `[rows, cols/32]`) and `N.q8_0.q` (I8
//!   `[rows, cols]`); `N.q4_0.d` and `N.q4_0.q` (U8 `[rows, cols/2]`, 16 bytes per block of
//!   32: element `j` low nibble of byte `j`, `j + 16` high); `N.q4_k.d` (F16
//!   `[rows, cols/256, 2]`: `d`, `dmin`), `N.q4_k.sub` (U8 `[rows, cols/32, 2]`: `sc`, `m`)
//!   and `N.q4_k.q`;
//! - or the interleaved layout of `kernels/x8.rs` (`N.x8_q8_0.*`, `N.x8_q4_0.*`,
//!   `N.x8_q4_k.*`: `scales` F16 bits, `subs`, `levels` U8 `[rows/8, cols/32, bytes]`),
//!
//! and every other tensor (norms, biases, matrices left f32) under its own name in f32. The
//! header's metadata names the weights (`proofstep.weights`); a loader on a CPU that reads the
//! other layout converts (`Converted::for_this_cpu`).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use half::f16;
use safetensors::tensor::View;
use safetensors::Dtype;

use crate::arch::held::HeldMatrix;
use crate::arch::precision::Weights;
use crate::arch::proj::Converted;
use crate::error::{ModelError, Result};
use crate::io::stream::{RawTensor, RawTensorLater, TensorStream};
use crate::kernels::bf16::Bf16Matrix;
use crate::kernels::q4::{Q40Matrix, BLOCK};
use crate::kernels::q4k::{Q4KMatrix, SUPER};
use crate::kernels::q8::Q8Matrix;
use crate::kernels::x8::{X8Kind, X8Matrix, GROUP};

/// The header metadata key naming the weights a quantized folder holds.
pub const WEIGHTS_KEY: &str = "proofstep.weights";

/// The header metadata key of the layout's version.
pub const FORMAT_KEY: &str = "proofstep.format";

/// The layout version written and read.
const FORMAT: &str = "1";

/// The weights a folder of converted matrices holds (`None` for any other folder).
pub fn stored_weights(stream: &TensorStream) -> Result<Option<Weights>> {
    let Some(name) = stream.metadata(WEIGHTS_KEY) else {
        return match stream.metadata(FORMAT_KEY) {
            Some(_) => Err(bad(
                WEIGHTS_KEY,
                "is missing from the header metadata though the layout is named",
            )),
            None => Ok(None),
        };
    };
    if stream.metadata(FORMAT_KEY) != Some(FORMAT) {
        return Err(ModelError::Quantized(format!(
            "the weights were quantized by another version of proofstep (layout {:?}, this one \
             reads {FORMAT}); quantize the original model again with `proofstep model quantize`",
            stream.metadata(FORMAT_KEY)
        )));
    }
    let w: Weights = name.parse().map_err(ModelError::Quantized)?;
    if !w.is_reduced() {
        return Err(ModelError::Quantized(format!(
            "the weights' metadata names `{name}`, not a reduced precision; quantize the original \
             model again with `proofstep model quantize`"
        )));
    }
    Ok(Some(w))
}

/// How a matrix is stored converted.
enum Form {
    Bf16,
    Q8_0,
    Q4_0,
    Q4K,
    X8(X8Kind),
}

/// The matrix `name` as stored converted, taken from `stream`; `None` when the folder does
/// not hold it converted (then it is an f32 tensor under its own name). A part of the wrong
/// dtype or size is an error naming it.
pub fn take(stream: &mut TensorStream, name: &str) -> Result<Option<Converted>> {
    if stream.metadata(WEIGHTS_KEY).is_none() {
        return Ok(None);
    }
    let has = |suffix: &str| stream.contains(&format!("{name}.{suffix}"));
    let form = if has("bf16") {
        Form::Bf16
    } else if has("q8_0.q") {
        Form::Q8_0
    } else if has("q4_0.q") {
        Form::Q4_0
    } else if has("q4_k.q") {
        Form::Q4K
    } else if let Some(kind) = [X8Kind::Q8_0, X8Kind::Q4_0, X8Kind::Q4K]
        .into_iter()
        .find(|&k| has(&format!("{}.levels", x8_name(k))))
    {
        Form::X8(kind)
    } else if let Some(found) = stream.names().into_iter().find(|n| {
        n.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
    }) {
        return Err(bad(
            &found,
            "is there without the rest of its matrix (its levels or values are missing)",
        ));
    } else {
        return Ok(None);
    };
    let converted = match form {
        Form::Bf16 => {
            let raw = part(stream, name, "bf16", Dtype::BF16)?;
            let (rows, cols) = dims2(&raw, &format!("{name}.bf16"))?;
            Converted::Bf16(Bf16Matrix {
                data: halves(&raw.bytes),
                rows,
                cols,
            })
        }
        Form::Q8_0 => {
            let (d, q) = (
                part(stream, name, "q8_0.d", Dtype::F16)?,
                part(stream, name, "q8_0.q", Dtype::I8)?,
            );
            let (rows, cols) = dims2(&q, &format!("{name}.q8_0.q"))?;
            blocks_of(cols, BLOCK, name)?;
            expect_len(&d, rows * cols / BLOCK * 2, name, "q8_0.d")?;
            Converted::Q8(Q8Matrix {
                scales: widened(finite(&d, name, "q8_0.d")?),
                values: q.bytes.into_iter().map(|b| b as i8).collect(),
                rows,
                cols,
            })
        }
        Form::Q4_0 => {
            let (d, q) = (
                part(stream, name, "q4_0.d", Dtype::F16)?,
                part(stream, name, "q4_0.q", Dtype::U8)?,
            );
            let (rows, half_cols) = dims2(&q, &format!("{name}.q4_0.q"))?;
            let cols = 2 * half_cols;
            blocks_of(cols, BLOCK, name)?;
            expect_len(&d, rows * cols / BLOCK * 2, name, "q4_0.d")?;
            Converted::Q40(Q40Matrix {
                scales: widened(finite(&d, name, "q4_0.d")?),
                nibbles: q.bytes,
                rows,
                cols,
            })
        }
        Form::Q4K => {
            let d = part(stream, name, "q4_k.d", Dtype::F16)?;
            let sub = part(stream, name, "q4_k.sub", Dtype::U8)?;
            let q = part(stream, name, "q4_k.q", Dtype::U8)?;
            let (rows, half_cols) = dims2(&q, &format!("{name}.q4_k.q"))?;
            let cols = 2 * half_cols;
            blocks_of(cols, SUPER, name)?;
            expect_len(&d, rows * cols / SUPER * 4, name, "q4_k.d")?;
            expect_len(&sub, rows * cols / BLOCK * 2, name, "q4_k.sub")?;
            let d = widened(finite(&d, name, "q4_k.d")?);
            Converted::Q4K(Q4KMatrix {
                supers: d.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
                subs: sub.bytes.chunks_exact(2).map(|p| [p[0], p[1]]).collect(),
                nibbles: q.bytes,
                rows,
                cols,
            })
        }
        Form::X8(kind) => {
            let tag = x8_name(kind);
            let levels_name = format!("{name}.{tag}.levels");
            let RawTensorLater {
                dtype,
                shape,
                bytes: levels,
            } = stream
                .take_raw_later(&levels_name)?
                .ok_or_else(|| bad(&levels_name, "is missing"))?;
            if dtype != Dtype::U8 {
                return Err(bad(&levels_name, &format!("is {dtype:?}, not U8")));
            }
            let scales = part(stream, name, &format!("{tag}.scales"), Dtype::F16)?;
            let &[groups, nb, per] = shape.as_slice() else {
                return Err(bad(&format!("{name}.{tag}.levels"), "is not 3-dimensional"));
            };
            if per != kind.block_bytes() || groups == 0 || nb == 0 {
                return Err(bad(
                    &format!("{name}.{tag}.levels"),
                    "has another block size",
                ));
            }
            let (rows, cols) = (groups * GROUP, nb * BLOCK);
            let subs = match kind {
                X8Kind::Q4K => {
                    blocks_of(cols, SUPER, name)?;
                    expect_len(
                        &scales,
                        groups * (cols / SUPER) * 2 * GROUP * 2,
                        name,
                        "scales",
                    )?;
                    let subs = part(stream, name, &format!("{tag}.subs"), Dtype::U8)?;
                    expect_len(&subs, groups * nb * 2 * GROUP, name, &format!("{tag}.subs"))?;
                    subs.bytes
                }
                _ => {
                    expect_len(&scales, rows * nb * 2, name, &format!("{tag}.scales"))?;
                    Vec::new()
                }
            };
            Converted::X8(X8Matrix {
                kind,
                scales: halves(finite(&scales, name, &format!("{tag}.scales"))?),
                subs,
                levels,
                rows,
                cols,
            })
        }
    };
    Ok(Some(converted))
}

/// The stored part `suffix` of the matrix `name`, taken, of `dtype`.
fn part(stream: &mut TensorStream, name: &str, suffix: &str, dtype: Dtype) -> Result<RawTensor> {
    let full = format!("{name}.{suffix}");
    let raw = stream
        .take_raw(&full)?
        .ok_or_else(|| bad(&full, "is missing"))?;
    if raw.dtype != dtype {
        return Err(bad(&full, &format!("is {:?}, not {dtype:?}", raw.dtype)));
    }
    Ok(raw)
}

/// Writes the held model's tensors (`CausalLm::load_held_saving`) as a folder of converted
/// matrices at `out` in `weights`, with config.json and every other file of the source folder
/// `src` but its weights (the tokenizer, generation_config.json). The folder is filled under a
/// temporary name beside `out` and put in place whole. Returns the weight file's bytes.
pub fn save(
    out: &Path,
    src: &Path,
    weights: Weights,
    tensors: &BTreeMap<String, HeldMatrix>,
) -> Result<u64> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    let staged = tempfile::Builder::new()
        .prefix(".quantize.")
        .tempdir_in(parent)
        .map_err(|e| ModelError::io(parent, e))?;
    let tracked = proofstep_core::interrupt::track_folder(staged.path().to_path_buf());
    for entry in std::fs::read_dir(src).map_err(|e| ModelError::io(src, e))? {
        let path = entry.map_err(|e| ModelError::io(src, e))?.path();
        if !path.is_file() || is_weights_file(&path) {
            continue;
        }
        let to = staged.path().join(path.file_name().expect("a file name"));
        std::fs::copy(&path, &to).map_err(|e| ModelError::io(&path, e))?;
    }
    let mut parts = Vec::new();
    for (name, m) in tensors {
        parts.extend(parts_of(name, m)?);
    }
    let metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        (WEIGHTS_KEY.to_string(), weights.name().to_string()),
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
    ]);
    let file = staged.path().join("model.safetensors");
    safetensors::serialize_to_file(parts, Some(metadata), &file)
        .map_err(|e| ModelError::Quantized(format!("writing {}: {e}", file.display())))?;
    proofstep_core::fsutil::ordinary_permissions(&file).map_err(|e| ModelError::io(&file, e))?;
    let bytes = std::fs::metadata(&file)
        .map_err(|e| ModelError::io(&file, e))?
        .len();
    let staged = staged.keep();
    tracked
        .finish(|| proofstep_core::fsutil::replace_dir(&staged, out))
        .map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            ModelError::io(out, e)
        })?;
    Ok(bytes)
}

/// A tensor to write: its dtype, shape and little-endian bytes.
struct Part<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl View for Part<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The stored parts of the held matrix `name`.
fn parts_of<'a>(name: &str, m: &'a HeldMatrix) -> Result<Vec<(String, Part<'a>)>> {
    let part = |suffix: &str, dtype, shape: Vec<usize>, data: Cow<'a, [u8]>| {
        let full = match suffix {
            "" => name.to_string(),
            s => format!("{name}.{s}"),
        };
        (full, Part { dtype, shape, data })
    };
    let c = match m {
        HeldMatrix::F32(t) => {
            let values: Vec<f32> = t.flatten_all()?.to_vec1()?;
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            return Ok(vec![part(
                "",
                Dtype::F32,
                t.dims().to_vec(),
                Cow::Owned(bytes),
            )]);
        }
        HeldMatrix::Converted(c) => c.as_ref(),
    };
    let (rows, cols) = c.dims();
    Ok(match c {
        Converted::Bf16(b) => vec![part("bf16", Dtype::BF16, vec![rows, cols], le16(&b.data))],
        Converted::Q8(q) => vec![
            part(
                "q8_0.d",
                Dtype::F16,
                vec![rows, cols / BLOCK],
                narrowed(&q.scales, name)?,
            ),
            part(
                "q8_0.q",
                Dtype::I8,
                vec![rows, cols],
                Cow::Borrowed(bytemuck::cast_slice(&q.values)),
            ),
        ],
        Converted::Q40(q) => vec![
            part(
                "q4_0.d",
                Dtype::F16,
                vec![rows, cols / BLOCK],
                narrowed(&q.scales, name)?,
            ),
            part(
                "q4_0.q",
                Dtype::U8,
                vec![rows, cols / 2],
                Cow::Borrowed(&q.nibbles),
            ),
        ],
        Converted::Q4K(q) => {
            let supers: Vec<f32> = q.supers.iter().flatten().copied().collect();
            let subs: Vec<u8> = q.subs.iter().flatten().copied().collect();
            vec![
                part(
                    "q4_k.d",
                    Dtype::F16,
                    vec![rows, cols / SUPER, 2],
                    narrowed(&supers, name)?,
                ),
                part(
                    "q4_k.sub",
                    Dtype::U8,
                    vec![rows, cols / BLOCK, 2],
                    Cow::Owned(subs),
                ),
                part(
                    "q4_k.q",
                    Dtype::U8,
                    vec![rows, cols / 2],
                    Cow::Borrowed(&q.nibbles),
                ),
            ]
        }
        Converted::X8(x) => {
            let tag = x8_name(x.kind);
            let mut v = vec![
                part(
                    &format!("{tag}.levels"),
                    Dtype::U8,
                    vec![rows / GROUP, cols / BLOCK, x.kind.block_bytes()],
                    Cow::Borrowed(x.levels.get()?),
                ),
                part(
                    &format!("{tag}.scales"),
                    Dtype::F16,
                    vec![x.scales.len()],
                    le16(&x.scales),
                ),
            ];
            if !finite_scales(&x.scales) {
                return Err(not_finite(name));
            }
            if x.kind == X8Kind::Q4K {
                v.push(part(
                    &format!("{tag}.subs"),
                    Dtype::U8,
                    vec![x.subs.len()],
                    Cow::Borrowed(&x.subs),
                ));
            }
            v
        }
        Converted::Q4(_) | Converted::DeviceBf16(_) => {
            return Err(ModelError::Quantized(format!(
                "{name}: exact Q4_1 packings and GPU tensors are not saved converted; quantize \
                 with --weights bf16, q8_0, q4_0 or q4_k"
            )))
        }
    })
}

/// Whether `path` holds weights (not copied into a quantized folder): a safetensors, PyTorch
/// or GGUF file, or a shard index.
fn is_weights_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    name.ends_with(".index.json") || matches!(ext, "safetensors" | "bin" | "pt" | "pth" | "gguf")
}

/// The part-name tag of an interleaved kind.
fn x8_name(kind: X8Kind) -> &'static str {
    match kind {
        X8Kind::Q8_0 => "x8_q8_0",
        X8Kind::Q4_0 => "x8_q4_0",
        X8Kind::Q4K => "x8_q4_k",
    }
}

/// An error naming a stored part.
fn bad(part: &str, what: &str) -> ModelError {
    ModelError::Quantized(format!(
        "stored part {part} {what}: the quantized folder is damaged; quantize the original model \
         again with `proofstep model quantize`"
    ))
}

/// `[rows, cols]` of a 2-D part.
fn dims2(raw: &RawTensor, part: &str) -> Result<(usize, usize)> {
    match raw.shape.as_slice() {
        &[rows, cols] if rows > 0 && cols > 0 => Ok((rows, cols)),
        _ => Err(bad(
            part,
            &format!("has shape {:?}, not [rows, cols]", raw.shape),
        )),
    }
}

/// An error unless `cols` is a positive multiple of `block`.
fn blocks_of(cols: usize, block: usize, name: &str) -> Result<()> {
    match cols > 0 && cols.is_multiple_of(block) {
        true => Ok(()),
        false => Err(bad(
            name,
            &format!("has rows of {cols}, not whole blocks of {block}"),
        )),
    }
}

/// An error unless the part holds `bytes` bytes.
fn expect_len(raw: &RawTensor, bytes: usize, name: &str, suffix: &str) -> Result<()> {
    match raw.bytes.len() == bytes {
        true => Ok(()),
        false => Err(bad(
            &format!("{name}.{suffix}"),
            &format!(
                "holds {} bytes where its matrix needs {bytes}",
                raw.bytes.len()
            ),
        )),
    }
}

/// The bytes of an F16 part of block scales; an error if one is infinite or NaN (a damaged
/// file: `save` writes finite scales only).
fn finite<'a>(raw: &'a RawTensor, name: &str, suffix: &str) -> Result<&'a [u8]> {
    match finite_scales(&halves(&raw.bytes)) {
        true => Ok(&raw.bytes),
        false => Err(bad(
            &format!("{name}.{suffix}"),
            "holds a block scale that is infinite or NaN",
        )),
    }
}

/// Whether every f16 scale (as bits) is finite.
fn finite_scales(bits: &[u16]) -> bool {
    bits.iter().all(|&h| f16::from_bits(h).is_finite())
}

/// The error of a matrix whose block scales are not finite f16 values when it is saved.
fn not_finite(name: &str) -> ModelError {
    ModelError::Quantized(format!(
        "{name}: a block scale is not a finite f16 value (the model's weights are not finite, \
         or it was imported packed); quantize from a model with finite f32 weights"
    ))
}

/// Little-endian 16-bit values.
fn halves(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect()
}

/// Little-endian f16 values widened to f32.
fn widened(bytes: &[u8]) -> Vec<f32> {
    halves(bytes)
        .into_iter()
        .map(|h| f16::from_bits(h).to_f32())
        .collect()
}

/// 16-bit values as little-endian bytes.
fn le16(v: &[u16]) -> Cow<'_, [u8]> {
    Cow::Owned(v.iter().flat_map(|h| h.to_le_bytes()).collect())
}

/// f32 scales as f16 bytes; an error if one is not an f16 value (only exact packings of
/// imported models have such scales, and they are not saved converted).
fn narrowed<'a>(v: &[f32], name: &str) -> Result<Cow<'a, [u8]>> {
    let mut out = Vec::with_capacity(2 * v.len());
    for &x in v {
        let h = f16::from_f32(x);
        if h.to_f32() != x {
            return Err(not_finite(name));
        }
        out.extend(h.to_bits().to_le_bytes());
    }
    Ok(Cow::Owned(out))
}
