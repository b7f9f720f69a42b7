//! A writer of PyTorch checkpoints (`torch.save(state_dict, "pytorch_model.bin")`) for the
//! tests of reading `.bin` model folders, since PyTorch itself is not installed in CI. It writes
//! the zip format PyTorch has written since 1.6, as `torch.save` lays it out:
//! `archive/data.pkl`, a protocol-2 pickle of an `OrderedDict` whose values are
//! `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` calls
//! on persistent storages `('storage', torch.FloatStorage, key, 'cpu', numel)`;
//! `archive/data/{key}`, each storage's raw little-endian bytes; `archive/version` and
//! `archive/byteorder`. Entries are stored uncompressed, as PyTorch stores them.

use std::io::Write;
use std::path::Path;

use candle_core::{DType, Tensor};
use zip::write::SimpleFileOptions;

/// Pickle opcodes used below (see Python's `pickletools`).
mod op {
    pub const PROTO: u8 = 0x80;
    pub const GLOBAL: u8 = b'c';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const REDUCE: u8 = b'R';
    pub const MARK: u8 = b'(';
    pub const TUPLE: u8 = b't';
    pub const BINUNICODE: u8 = b'X';
    pub const BININT: u8 = b'J';
    pub const BINPERSID: u8 = b'Q';
    pub const NEWFALSE: u8 = 0x89;
    pub const SETITEMS: u8 = b'u';
    pub const STOP: u8 = b'.';
}

fn global(p: &mut Vec<u8>, module: &str, name: &str) {
    p.push(op::GLOBAL);
    p.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
}

fn unicode(p: &mut Vec<u8>, s: &str) {
    p.push(op::BINUNICODE);
    p.extend_from_slice(&(s.len() as u32).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

fn int(p: &mut Vec<u8>, v: usize) {
    p.push(op::BININT);
    p.extend_from_slice(&i32::try_from(v).expect("fits a BININT").to_le_bytes());
}

fn int_tuple(p: &mut Vec<u8>, values: &[usize]) {
    p.push(op::MARK);
    for &v in values {
        int(p, v);
    }
    p.push(op::TUPLE);
}

/// The storage class PyTorch names for a dtype.
fn storage_class(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "FloatStorage",
        DType::F16 => "HalfStorage",
        DType::BF16 => "BFloat16Storage",
        other => panic!("no test storage for {other:?}"),
    }
}

/// The pickle of a state dict whose tensor `i` lives whole in storage `i`.
fn state_dict_pickle(tensors: &[(String, Tensor)]) -> Vec<u8> {
    let mut p = vec![op::PROTO, 2];
    global(&mut p, "collections", "OrderedDict");
    p.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE, op::MARK]);
    for (key, (name, t)) in tensors.iter().enumerate() {
        unicode(&mut p, name);
        global(&mut p, "torch._utils", "_rebuild_tensor_v2");
        p.push(op::MARK);
        p.push(op::MARK);
        unicode(&mut p, "storage");
        global(&mut p, "torch", storage_class(t.dtype()));
        unicode(&mut p, &key.to_string());
        unicode(&mut p, "cpu");
        int(&mut p, t.elem_count());
        p.extend_from_slice(&[op::TUPLE, op::BINPERSID]);
        int(&mut p, 0);
        let dims = t.dims().to_vec();
        let mut strides = vec![1usize; dims.len()];
        for i in (0..dims.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * dims[i + 1];
        }
        int_tuple(&mut p, &dims);
        int_tuple(&mut p, &strides);
        p.push(op::NEWFALSE);
        global(&mut p, "collections", "OrderedDict");
        p.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE, op::TUPLE, op::REDUCE]);
    }
    p.extend_from_slice(&[op::SETITEMS, op::STOP]);
    p
}

/// Writes `tensors` (in this order) to `path` as `torch.save` writes a state dict.
pub fn write_torch_checkpoint(path: &Path, tensors: &[(String, Tensor)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("archive/data.pkl", stored).unwrap();
    zip.write_all(&state_dict_pickle(tensors)).unwrap();
    zip.start_file("archive/byteorder", stored).unwrap();
    zip.write_all(b"little").unwrap();
    for (key, (_, t)) in tensors.iter().enumerate() {
        zip.start_file(format!("archive/data/{key}"), stored)
            .unwrap();
        let mut bytes = Vec::new();
        t.write_bytes(&mut bytes).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.start_file("archive/version", stored).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
}
