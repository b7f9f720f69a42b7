//! TensorBoard event files (`--report_to tensorboard`): what the seed's command asks
//! transformers to write, so `tensorboard --logdir LOGGING_DIR` shows a proofstep run like a
//! transformers one. A file `events.out.tfevents.{time}.{host}.{pid}` is a TFRecord stream of
//! `Event` protobufs (TensorFlow's `event.proto`, the fields used here declared with prost):
//! each record is its length (u64, little-endian), the length's masked CRC-32C, the bytes and
//! their masked CRC-32C. Every event is flushed when written, so a killed run keeps its curve.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The optimizer step the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event holds.
    #[prost(oneof = "What", tags = "3, 5, 7")]
    pub what: Option<What>,
}

/// `Event.what`: the kinds of event written here.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum What {
    /// The format's version, the first event of every file (`brain.Event:2`).
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Values at a step.
    #[prost(message, tag = "5")]
    Summary(Summary),
    /// A (re)start of the run: TensorBoard drops what an earlier run logged at later steps.
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorflow.Summary`: the values of one event.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// One per tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` with a scalar (`simple_value`, what TensorBoard's scalars read).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The curve's name, e.g. `train/loss`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The value (always written, 0 included).
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
}

/// `tensorflow.SessionLog`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// 1 = START.
    #[prost(int32, tag = "1")]
    pub status: i32,
}

/// `SessionLog.status` of a (re)started run.
pub const SESSION_START: i32 = 1;

/// The masked CRC-32C TFRecords carry (so a CRC of data holding CRCs stays well spread).
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its masked CRC, the data, its masked CRC.
pub fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// An event file being written.
pub struct EventFile {
    path: PathBuf,
    file: File,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name = String::from_utf8_lossy(&buf[..end]).replace(['/', '\\'], "_");
    if ok && !name.is_empty() {
        name
    } else {
        "localhost".into()
    }
}

impl EventFile {
    /// Starts a new event file in `dir` (created if needed). When the run resumes after
    /// `resume_step`, a START session log at the next step tells TensorBoard to drop what the
    /// interrupted run had logged after the checkpoint.
    pub fn create(dir: &Path, resume_step: Option<usize>) -> std::io::Result<EventFile> {
        std::fs::create_dir_all(dir)?;
        let wall = now();
        let path = dir.join(format!(
            "events.out.tfevents.{}.{}.{}",
            wall as u64,
            hostname(),
            std::process::id()
        ));
        let file = File::options().create_new(true).write(true).open(&path)?;
        let mut events = EventFile { path, file };
        events.write(Event {
            wall_time: wall,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
        })?;
        if let Some(step) = resume_step {
            events.write(Event {
                wall_time: wall,
                step: step as i64 + 1,
                what: Some(What::SessionLog(SessionLog {
                    status: SESSION_START,
                })),
            })?;
        }
        Ok(events)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the scalars `values` (tag, value) at `step`, one event.
    pub fn scalars(&mut self, step: usize, values: &[(String, f32)]) -> std::io::Result<()> {
        let value = values
            .iter()
            .map(|(tag, v)| SummaryValue {
                tag: tag.clone(),
                simple_value: Some(*v),
            })
            .collect();
        self.write(Event {
            wall_time: now(),
            step: step as i64,
            what: Some(What::Summary(Summary { value })),
        })
    }

    fn write(&mut self, event: Event) -> std::io::Result<()> {
        self.file.write_all(&record(&event.encode_to_vec()))?;
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crc_is_castagnoli_masked_as_tensorflow_masks_it() {
        // CRC-32C("123456789") = 0xE3069283 (the standard check value); TensorFlow's mask,
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8, worked out by hand, gives 0xC78AB0E5.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xC78A_B0E5);
    }

    #[test]
    fn each_kind_of_event_has_its_field_number_in_event_proto() {
        // tensorflow/core/util/event.proto: file_version = 3, summary = 5, session_log = 7
        // (6 is the deprecated log_message); a message field's key is (number << 3) | 2.
        let key = |what: What| {
            let e = Event {
                wall_time: 0.0,
                step: 0,
                what: Some(what),
            };
            e.encode_to_vec()[0]
        };
        assert_eq!(key(What::FileVersion("brain.Event:2".into())), 3 << 3 | 2);
        assert_eq!(key(What::Summary(Summary { value: vec![] })), 5 << 3 | 2);
        let start = SessionLog {
            status: SESSION_START,
        };
        assert_eq!(key(What::SessionLog(start)), 7 << 3 | 2);
    }

    #[test]
    fn a_zero_scalar_is_still_written() {
        let event = Event {
            wall_time: 1.0,
            step: 3,
            what: Some(What::Summary(Summary {
                value: vec![SummaryValue {
                    tag: "train/loss".into(),
                    simple_value: Some(0.0),
                }],
            })),
        };
        let back = Event::decode(event.encode_to_vec().as_slice()).unwrap();
        let Some(What::Summary(s)) = back.what else {
            panic!("not a summary")
        };
        assert_eq!(s.value[0].simple_value, Some(0.0));
    }
}
