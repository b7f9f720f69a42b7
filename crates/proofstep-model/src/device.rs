//! Where a model runs: the `--device cpu|cuda[:N]` choice every command that loads a model
//! shares, the device it opens, and the GPU memory a run reports. Without the `cuda` feature
//! every choice but `cpu` is an error that says how to build with it.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

use crate::error::{ModelError, Result};

/// What `--device` asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// A CUDA GPU when this build has CUDA and the machine has one, else the CPU.
    #[default]
    Auto,
    /// The CPU (the SIMD kernels, the fused training ops).
    Cpu,
    /// CUDA GPU number N.
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(format!(
                    "unknown device {s:?}: give cpu, cuda (GPU 0), cuda:N or auto"
                )),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Whether this binary was built with the `cuda` feature.
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

impl DeviceChoice {
    /// Opens the device: `Auto` is GPU 0 when this build has CUDA and a GPU answers, else the
    /// CPU. Asking for CUDA in a build without it, or for a GPU that does not answer, is an
    /// error that says what to do.
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(if CUDA_BUILT && candle_core::utils::cuda_is_available() {
                Device::new_cuda(0).unwrap_or(Device::Cpu)
            } else {
                Device::Cpu
            }),
            DeviceChoice::Cuda(n) if !CUDA_BUILT => Err(ModelError::Device(format!(
                "--device cuda:{n}: this proofstep was built without CUDA; build it with \
                 `cargo build --release --features cuda` (scripts/build-cuda.sh fetches a CUDA \
                 toolkit from PyPI; README.md, \"On a GPU\"), or use --device cpu"
            ))),
            DeviceChoice::Cuda(n) => Device::new_cuda(n).map_err(|e| {
                // candle appends a backtrace to the message; its first line is the reason.
                let reason = e.to_string();
                let reason = reason.lines().next().unwrap_or_default();
                ModelError::Device(format!(
                    "--device cuda:{n}: cannot open the GPU ({reason}); check `nvidia-smi`, that \
                     the driver's libcuda.so.1 and the CUDA 13 libraries are on LD_LIBRARY_PATH, \
                     or use --device cpu"
                ))
            }),
        }
    }
}

/// A device's name for logs and reports: `cpu` or `cuda:N`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// Bytes of GPU memory in use on the device (the driver's total minus free: this process and
/// any other), `None` on the CPU. Sampled during a run, its maximum is the peak reported.
pub fn gpu_memory_used(device: &Device) -> Option<u64> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(gpu) = device {
        let (free, total) = gpu.cuda_stream().context().mem_get_info().ok()?;
        return Some(total.saturating_sub(free) as u64);
    }
    let _ = device;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_flags_parse_and_name_the_fix() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("CUDA:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert_eq!("auto".parse(), Ok(DeviceChoice::Auto));
        let err = "tpu".parse::<DeviceChoice>().unwrap_err();
        assert!(err.contains("cpu, cuda"), "{err}");
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert_eq!(DeviceChoice::Cuda(1).to_string(), "cuda:1");
    }

    #[test]
    fn the_cpu_opens_and_auto_falls_back_to_it_without_a_gpu() {
        assert!(DeviceChoice::Cpu.open().unwrap().is_cpu());
        if !CUDA_BUILT {
            assert!(DeviceChoice::Auto.open().unwrap().is_cpu());
            let err = DeviceChoice::Cuda(0).open().unwrap_err().to_string();
            assert!(err.contains("--features cuda"), "{err}");
        }
        assert_eq!(device_name(&Device::Cpu), "cpu");
        assert_eq!(gpu_memory_used(&Device::Cpu), None);
    }
}
