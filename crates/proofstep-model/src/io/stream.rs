//! A folder's tensors one at a time, for loading a model converted as it loads
//! (`CausalLm::load_held`): safetensors files are memory-mapped, never read whole; a tensor
//! converted to f32 has its pages handed back to the kernel once copied out, and one taken as
//! stored is read from the file directly, so the file does not stay resident beside the
//! converted model. PyTorch `.bin` files cannot be mapped
//! (their storages sit inside a zip); they are read whole and each tensor is released when taken.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use candle_core::{DType, Device, Tensor};
use memmap2::Mmap;
use rayon::prelude::*;
use safetensors::tensor::TensorInfo;
use safetensors::{Dtype, SafeTensors};

use crate::error::{ModelError, Result};
use crate::io::weights::{read_file, weight_files, WeightFormat};
use crate::kernels::pending::{AlignedBytes, PendingBytes, PendingFill};

/// One memory-mapped safetensors file and where its tensors lie.
struct Mapped {
    path: PathBuf,
    /// Read from directly by `take_raw` and, behind the load, by `take_raw_later`'s reader.
    file: Arc<File>,
    map: Mmap,
    /// Where the data section starts (after the 8-byte length and the JSON header).
    data_start: usize,
    tensors: HashMap<String, TensorInfo>,
    /// The header's `__metadata__` entries.
    metadata: HashMap<String, String>,
}

/// A stored tensor as its file holds it: dtype, shape and little-endian bytes (what a folder
/// of converted matrices, `io/quantized.rs`, is read as).
pub struct RawTensor {
    /// The stored dtype.
    pub dtype: Dtype,
    /// The stored shape.
    pub shape: Vec<usize>,
    /// The data, copied out of the file.
    pub bytes: Vec<u8>,
}

/// The tensors of a model folder's weight files, taken one at a time as f32.
pub struct TensorStream {
    mapped: Vec<Mapped>,
    /// Tensors of PyTorch files, read whole (released as they are taken).
    read: HashMap<String, Tensor>,
    /// The queue of `take_raw_later`'s reader thread, started on first use; dropping the
    /// stream closes it, and the reader stops once the reads queued are done.
    later: Option<mpsc::Sender<LaterRead>>,
}

/// A read `take_raw_later` queued: `fill.len()` bytes of `file` from `offset`.
struct LaterRead {
    path: PathBuf,
    file: Arc<File>,
    offset: usize,
    fill: PendingFill,
}

impl LaterRead {
    /// Reads the bytes on the `reader_pool` and hands them over (or the error naming the
    /// file); skipped when the model that wanted them is gone.
    fn run(self) {
        if self.fill.unwanted() {
            return;
        }
        let mut bytes = AlignedBytes::zeroed(self.fill.len());
        let buf = bytes.as_mut_slice();
        let read = match reader_pool() {
            Some(pool) => pool.install(|| read_in_parallel(&self.file, self.offset, buf)),
            // Alone on this thread: rayon's global pool may be the one waiting for these bytes.
            None => read_alone(&self.file, self.offset, buf),
        };
        self.fill.fill(read.map(|()| bytes).map_err(|e| {
            format!(
                "{}: reading the model's weights failed after it loaded ({e}); the file was \
                 changed or cannot be read: check it (replace a quantized folder by writing a \
                 new one and renaming it) and load the model again",
                self.path.display()
            )
        }));
    }
}

/// A stored tensor whose bytes `take_raw_later` reads behind the load.
pub struct RawTensorLater {
    /// The stored dtype.
    pub dtype: Dtype,
    /// The stored shape.
    pub shape: Vec<usize>,
    /// The data, arriving.
    pub bytes: PendingBytes,
}

/// candle's dtype of a stored float dtype.
fn float_dtype(d: Dtype, name: &str, path: &Path) -> Result<DType> {
    Ok(match d {
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F64 => DType::F64,
        other => {
            return Err(ModelError::Weights(format!(
                "{}: tensor {name} is stored as {other:?}; model weights must be f32, f16, bf16 \
                 or f64 (re-save the model with transformers' save_pretrained)",
                path.display()
            )))
        }
    })
}

impl TensorStream {
    /// The weight files of `dir` (see `weights.rs`), mapped (safetensors) or read (`.bin`).
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_reading(dir, true)
    }

    /// The safetensors files of `dir` mapped, their headers read, and no PyTorch file read:
    /// enough for `metadata` (a folder of quantized matrices is safetensors) at the cost of
    /// the headers, where `open` decodes every `.bin` file whole.
    pub fn open_headers(dir: &Path) -> Result<Self> {
        Self::open_reading(dir, false)
    }

    /// `open`, reading PyTorch files only if `pytorch`.
    fn open_reading(dir: &Path, pytorch: bool) -> Result<Self> {
        let mut mapped = Vec::new();
        let mut read = HashMap::new();
        for path in weight_files(dir)? {
            match WeightFormat::of(&path) {
                WeightFormat::PyTorch if !pytorch => {}
                WeightFormat::PyTorch => read.extend(read_file(&path, &Device::Cpu)?),
                WeightFormat::Safetensors => {
                    let file = Arc::new(File::open(&path).map_err(|e| ModelError::io(&path, e))?);
                    // SAFETY: the map is read-only and lives only while the model loads; a file
                    // changed meanwhile gives wrong weights (as any reader would).
                    let map = unsafe { Mmap::map(&file) }.map_err(|e| ModelError::io(&path, e))?;
                    let (header, meta) = SafeTensors::read_metadata(&map).map_err(|e| {
                        ModelError::Weights(format!(
                            "{}: not a safetensors file ({e}): damaged or cut short; copy it \
                             again, or re-save the model with transformers' save_pretrained (a \
                             folder `proofstep model quantize` wrote: quantize it again)",
                            path.display()
                        ))
                    })?;
                    let tensors = meta
                        .tensors()
                        .into_iter()
                        .map(|(n, i)| (n, i.clone()))
                        .collect();
                    let metadata = meta.metadata().clone().unwrap_or_default();
                    mapped.push(Mapped {
                        path,
                        file,
                        map,
                        data_start: 8 + header,
                        tensors,
                        metadata,
                    });
                }
            }
        }
        Ok(TensorStream {
            mapped,
            read,
            later: None,
        })
    }

    /// The names of the tensors not yet taken.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read.keys().cloned().collect();
        for m in &self.mapped {
            names.extend(m.tensors.keys().cloned());
        }
        names
    }

    /// The value of `key` in a weight file's header metadata (the first file that has it).
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.mapped
            .iter()
            .find_map(|m| m.metadata.get(key).map(String::as_str))
    }

    /// Whether a tensor `name` is there, not yet taken.
    pub fn contains(&self, name: &str) -> bool {
        self.read.contains_key(name) || self.mapped.iter().any(|m| m.tensors.contains_key(name))
    }

    /// The tensor `name` as stored (dtype, shape, bytes), taken, or `None` when no
    /// safetensors file holds it. Read from the file (not the mapping) `READ_BYTES` at a time
    /// on every thread of the caller's pool, so the reads from disk run side by side and none
    /// of the file's pages is mapped into the process.
    pub fn take_raw(&mut self, name: &str) -> Result<Option<RawTensor>> {
        for m in &mut self.mapped {
            let Some(info) = m.tensors.remove(name) else {
                continue;
            };
            let (a, b) = info.data_offsets;
            let start = m.data_start + a;
            let mut bytes = vec![0u8; b - a];
            read_at(&m.file, &m.map, start, &mut bytes).map_err(|e| ModelError::io(&m.path, e))?;
            return Ok(Some(RawTensor {
                dtype: info.dtype,
                shape: info.shape,
                bytes,
            }));
        }
        Ok(None)
    }

    /// `take_raw` with the bytes read behind the load: the dtype and shape now, the bytes
    /// queued for a reader thread that reads them in the order they were taken (the layers'
    /// order) on its own `reader_pool` while the caller goes on (`kernels/pending.rs`). A
    /// quantized folder's levels are read this way into the model's own memory rather than
    /// used in place from the mapping: the decoding kernels stream anonymous memory ~20 %
    /// faster than a file's page-cache pages (benchmarks/README.md, real_size). Where no
    /// thread can be started, or the system has no `pread`, the bytes are read now.
    pub fn take_raw_later(&mut self, name: &str) -> Result<Option<RawTensorLater>> {
        if !cfg!(unix) || self.reader().is_none() {
            return Ok(self.take_raw(name)?.map(|t| RawTensorLater {
                dtype: t.dtype,
                shape: t.shape,
                bytes: PendingBytes::ready(t.bytes),
            }));
        }
        let Some((m, info)) = self
            .mapped
            .iter_mut()
            .find_map(|m| m.tensors.remove(name).map(|info| (m, info)))
        else {
            return Ok(None);
        };
        let (a, b) = info.data_offsets;
        let (bytes, fill) = PendingBytes::pending(b - a);
        let job = LaterRead {
            path: m.path.clone(),
            file: m.file.clone(),
            offset: m.data_start + a,
            fill,
        };
        if let Err(mpsc::SendError(job)) = self.later.as_ref().expect("started above").send(job) {
            job.run();
        }
        Ok(Some(RawTensorLater {
            dtype: info.dtype,
            shape: info.shape,
            bytes,
        }))
    }

    /// The sender to the reader thread of `take_raw_later`, started if need be; `None` if the
    /// system refused the thread.
    fn reader(&mut self) -> Option<&mpsc::Sender<LaterRead>> {
        if self.later.is_none() {
            let (tx, rx) = mpsc::channel::<LaterRead>();
            let started = std::thread::Builder::new()
                .name("proofstep-weights".into())
                .spawn(move || rx.into_iter().for_each(LaterRead::run));
            if started.is_ok() {
                self.later = Some(tx);
            }
        }
        self.later.as_ref()
    }

    /// The tensor `name` as f32 on the CPU, taken (a second take finds nothing), or `None`
    /// when no file holds it. Its pages of the mapped file are released.
    pub fn take_f32(&mut self, name: &str) -> Result<Option<Tensor>> {
        if let Some(t) = self.read.remove(name) {
            return Ok(Some(t.to_dtype(DType::F32)?));
        }
        for m in &mut self.mapped {
            let Some(info) = m.tensors.remove(name) else {
                continue;
            };
            let (a, b) = info.data_offsets;
            let (start, end) = (m.data_start + a, m.data_start + b);
            float_dtype(info.dtype, name, &m.path)?;
            let values = f32_values(&m.map, start, end, info.dtype);
            return Ok(Some(Tensor::from_vec(values, info.shape, &Device::Cpu)?));
        }
        Ok(None)
    }
}

/// Bytes converted (and their pages released) at a time by `f32_values`.
const CHUNK_BYTES: usize = 4 << 20;

/// Bytes one reader asks the file for at a time.
#[cfg(unix)]
const READ_BYTES: usize = 2 << 20;

/// Reads `take_raw_later`'s reader keeps in flight: more than a small machine's cores, since
/// they wait on the disk, not the CPU, and a disk (a cloud volume most of all) delivers more
/// with several requests queued (benchmarks/README.md, real_size, sixth session).
const READERS: usize = 8;

/// The threads that read behind the load, apart from the caller's pool so that the load's own
/// reads never queue behind them; started on first use, `None` if the system refused them
/// (then the reader thread reads alone).
fn reader_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(READERS)
            .thread_name(|i| format!("proofstep-read-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The values of `map[start..end]` (little-endian `dtype`, a float type `float_dtype` accepted) as f32, read a chunk
/// at a time, each chunk's pages released once converted: the load holds the f32 values and
/// at most one chunk of the mapped file, never the whole tensor twice.
fn f32_values(map: &Mmap, start: usize, end: usize, dtype: Dtype) -> Vec<f32> {
    let size = dtype.bitsize() / 8;
    let mut values = Vec::with_capacity((end - start) / size);
    let mut at = start;
    while at < end {
        let next = (at + CHUNK_BYTES).min(end);
        let bytes = &map[at..next];
        match dtype {
            Dtype::F32 => values.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))),
            ),
            Dtype::F16 => values.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
            ),
            Dtype::BF16 => values.extend(
                bytes
                    .chunks_exact(2)
                    .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
            ),
            Dtype::F64 => values.extend(
                bytes
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32),
            ),
            other => unreachable!("{other:?} is refused by float_dtype before it is read"),
        }
        release(map, at, next);
        at = next;
    }
    values
}

/// `buf.len()` bytes of the file from `offset`: read with `pread` where the system has it (no
/// page of the file mapped into the process), else copied from the mapping.
fn read_at(file: &File, map: &Mmap, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let _ = map;
        read_in_parallel(file, offset, buf)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        buf.copy_from_slice(&map[offset..offset + buf.len()]);
        Ok(())
    }
}

/// `buf.len()` bytes of `file` from `offset`, `READ_BYTES` at a time on every thread of the
/// current rayon pool (the global one outside any): the caller's for `take_raw`, the
/// `reader_pool` for the reads behind the load.
#[cfg(unix)]
fn read_in_parallel(file: &File, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    buf.par_chunks_mut(READ_BYTES)
        .enumerate()
        .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (offset + i * READ_BYTES) as u64))
}

/// `buf.len()` bytes of `file` from `offset`, read on this thread alone.
#[cfg(unix)]
fn read_alone(file: &File, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset as u64)
}

/// `read_alone` where the system has no `pread`: one seek and read (no two threads read this
/// way at once: `take_raw` copies from the mapping there and nothing is read later).
#[cfg(not(unix))]
fn read_alone(file: &File, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset as u64))?;
    f.read_exact(buf)
}

/// `read_in_parallel` where the system has no `pread`: `read_alone`.
#[cfg(not(unix))]
fn read_in_parallel(file: &File, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
    read_alone(file, offset, buf)
}

/// Hands the pages of `map[start..end]` back to the kernel once their bytes were copied out.
fn release(map: &Mmap, start: usize, end: usize) {
    #[cfg(unix)]
    // SAFETY: the map is a read-only shared mapping of a file: a dropped page is read back from
    // the file when next touched, so any reference into it (a neighbouring tensor's, sharing a
    // boundary page) still reads the same bytes.
    unsafe {
        let _ = map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start);
    }
    #[cfg(not(unix))]
    let _ = (map, start, end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_are_taken_once_as_f32_whatever_their_stored_dtype() {
        let dir = tempfile::tempdir().unwrap();
        let a = Tensor::from_vec(vec![1.5f32, -2.0, 0.25], 3, &Device::Cpu).unwrap();
        let b = a.to_dtype(DType::BF16).unwrap().reshape((1, 3)).unwrap();
        let bytes = safetensors::serialize(
            vec![("a".to_string(), a.clone()), ("b".to_string(), b)],
            None,
        )
        .unwrap();
        std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
        let mut s = TensorStream::open(dir.path()).unwrap();
        let mut names = s.names();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        let got = s.take_f32("b").unwrap().unwrap();
        assert_eq!(got.dtype(), DType::F32);
        assert_eq!(got.dims(), [1, 3]);
        assert_eq!(
            got.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            [1.5, -2.0, 0.25]
        );
        assert!(s.take_f32("b").unwrap().is_none());
        assert_eq!(
            s.take_f32("a").unwrap().unwrap().to_vec1::<f32>().unwrap(),
            [1.5, -2.0, 0.25]
        );
        assert!(s.take_f32("missing").unwrap().is_none());
        assert!(s.names().is_empty());
    }

    #[test]
    fn a_tensor_larger_than_a_chunk_reads_every_value_in_every_float_dtype() {
        let n = CHUNK_BYTES / 2 + 1234;
        let values: Vec<f32> = (0..n).map(|i| (i % 251) as f32 - 125.0).collect();
        let a = Tensor::from_vec(values.clone(), (n / 2, 2), &Device::Cpu).unwrap();
        let tensors: Vec<(String, Tensor)> = [DType::F32, DType::F16, DType::BF16, DType::F64]
            .iter()
            .map(|&d| (format!("{d:?}"), a.to_dtype(d).unwrap()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let bytes = safetensors::serialize(tensors.clone(), None).unwrap();
        std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
        let mut s = TensorStream::open(dir.path()).unwrap();
        for (name, _) in &tensors {
            let got = s.take_f32(name).unwrap().unwrap();
            assert_eq!(got.dims(), [n / 2, 2], "{name}");
            let got = got.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert!(got == values, "{name}: values differ");
        }
    }
}
