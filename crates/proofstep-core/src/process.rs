//! Running child processes within bounds, the one module every spawn of the workspace goes
//! through: each child leads a process group of its own (so a kill reaches `lake env`'s child
//! and a language server's workers too), is waited for with a deadline, and is watched for
//! memory — a Lean that grows past its limit is killed like one that hangs, and the step that
//! made it grow counts as failed. Errors are [`ProcessError`]s, which the Lean layer turns into
//! its own.

use std::io::Read;
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::interrupt;

/// Why a bounded wait ended without the process exiting on its own.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The process ran past its deadline; its group was killed.
    #[error("the process did not finish within {0:?} and was killed")]
    Timeout(Duration),
    /// The process group grew past its memory limit; it was killed.
    #[error(
        "the process grew past its memory limit ({used_mb} MB > {limit_mb} MB) and was killed"
    )]
    OutOfMemory {
        /// Private memory of the group when it was killed.
        used_mb: u64,
        /// The limit it passed.
        limit_mb: u64,
    },
    /// Waiting for the process failed.
    #[error("waiting for the process: {0}")]
    Io(#[from] std::io::Error),
}

/// How often memory is read while a process runs.
pub const MEMORY_POLL: Duration = Duration::from_millis(100);

/// The memory limit for each Lean process when none is given: three quarters of the machine's
/// memory shared among `workers` processes, at least 1 GiB.
pub fn default_memory_limit_mb(workers: usize) -> u64 {
    let total = total_memory_mb().unwrap_or(8 * 1024);
    (total * 3 / 4 / workers.max(1) as u64).max(1024)
}

/// The machine's memory in MB (from /proc/meminfo), where /proc can tell.
pub fn total_memory_mb() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb / 1024)
}

/// A child leading a process group of its own, tracked while it lives so that an interrupted
/// run kills its group (`interrupt`); it dereferences to the `Child`.
pub struct GroupChild {
    child: Child,
    _tracked: interrupt::Tracked,
}

impl Deref for GroupChild {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl DerefMut for GroupChild {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

/// Starts `command` as the leader of a new process group, tracked for an interruption; once
/// the run is interrupted, nothing is started (an error of kind `Interrupted`).
pub fn spawn_group(command: &mut Command) -> std::io::Result<GroupChild> {
    use std::os::unix::process::CommandExt;
    let (child, tracked) = interrupt::spawn_tracked(|| command.process_group(0).spawn())?;
    Ok(GroupChild {
        child,
        _tracked: tracked,
    })
}

/// Kills the whole process group led by `pid` (the process, and every child it started).
pub fn kill_group(pid: u32) {
    // SAFETY: kill(2) on a process group this module created; no memory is touched.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// True once our child `pid` has exited. The child is not reaped, so its pid, and the id of the
/// group it leads, stay ours to kill until it is.
pub fn has_exited(pid: u32) -> bool {
    // SAFETY: waitid with WNOWAIT only inspects our own child; `info` is a plain C struct.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

/// Private resident memory in MB, rounded up (anonymous pages: what a process allocates, not the files it
/// maps, such as Mathlib's `.olean`s, whose pages the system can drop and share) of a process
/// and all its descendants; None where /proc cannot tell.
pub fn tree_memory_mb(pid: u32) -> Option<u64> {
    let mut total_kb = 0u64;
    let mut seen = 0usize;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 4096 {
            break;
        }
        match std::fs::read_to_string(format!("/proc/{p}/status")) {
            Ok(status) => {
                total_kb += status
                    .lines()
                    .find_map(|l| l.strip_prefix("RssAnon:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    .unwrap_or(0);
            }
            Err(_) if p == pid => return None,
            Err(_) => continue,
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for task in tasks.flatten() {
                if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                    stack.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
        }
    }
    Some(total_kb.div_ceil(1024))
}

/// Waits for `child` (a group leader) to exit. Past `timeout`, or once the group's memory
/// passes `memory_limit_mb`, the whole group is killed and the wait fails.
pub fn wait_bounded(
    child: &mut Child,
    timeout: Duration,
    memory_limit_mb: Option<u64>,
) -> Result<ExitStatus, ProcessError> {
    // A timeout past what an `Instant` holds is no deadline.
    let deadline = Instant::now().checked_add(timeout);
    let mut pause = Duration::from_millis(1);
    let mut next_memory_read = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            kill_group(child.id());
            let _ = child.wait();
            return Err(ProcessError::Timeout(timeout));
        }
        if let Some(limit) = memory_limit_mb {
            if now >= next_memory_read {
                next_memory_read = now + MEMORY_POLL;
                if let Some(used) = tree_memory_mb(child.id()).filter(|&used| used > limit) {
                    kill_group(child.id());
                    let _ = child.wait();
                    return Err(ProcessError::OutOfMemory {
                        used_mb: used,
                        limit_mb: limit,
                    });
                }
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The exit status of `child` if it exits within `within` (polled); None when it is still
/// running then, which it is left doing, or cannot be waited for.
pub fn exit_within(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            _ => return None,
        }
    }
}

/// What a child that ran to its end wrote, read while it ran.
#[derive(Debug)]
pub struct Captured {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output (lossily decoded).
    pub stdout: String,
    /// Its standard error (lossily decoded).
    pub stderr: String,
}

/// Waits for `child` (a group leader started with piped output) as [`wait_bounded`] does, reading
/// its stdout and stderr on threads meanwhile, so neither pipe can fill up and stall it.
pub fn capture_bounded(
    mut child: GroupChild,
    timeout: Duration,
    memory_limit_mb: Option<u64>,
) -> Result<Captured, ProcessError> {
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_bounded(&mut child, timeout, memory_limit_mb)?;
    Ok(Captured {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Reads a pipe to its end on a thread.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// A thread that kills a long-lived process group (a language server and its workers) once its
/// memory passes a limit, and remembers that it did, so the failed request can say why.
pub struct MemoryWatch {
    stop: Arc<AtomicBool>,
    /// The memory (MB) the group had when it was killed; 0 while it was not.
    tripped: Arc<AtomicU64>,
    limit_mb: u64,
}

impl MemoryWatch {
    /// Starts watching the group led by `pid`.
    pub fn start(pid: u32, limit_mb: u64) -> std::io::Result<MemoryWatch> {
        let stop = Arc::new(AtomicBool::new(false));
        let tripped = Arc::new(AtomicU64::new(0));
        let (halt, trip) = (stop.clone(), tripped.clone());
        std::thread::Builder::new()
            .name(format!("lean-memory-{pid}"))
            .spawn(move || {
                while !halt.load(Ordering::Relaxed) {
                    match tree_memory_mb(pid) {
                        None => return,
                        Some(used) if used > limit_mb => {
                            tracing::warn!(
                                pid,
                                used_mb = used,
                                limit_mb,
                                "Lean grew past its memory limit; killing it"
                            );
                            trip.store(used, Ordering::Relaxed);
                            kill_group(pid);
                            return;
                        }
                        Some(_) => std::thread::sleep(MEMORY_POLL),
                    }
                }
            })?;
        Ok(MemoryWatch {
            stop,
            tripped,
            limit_mb,
        })
    }

    /// The error to report when the watch killed the group, None while it has not.
    pub fn tripped(&self) -> Option<ProcessError> {
        let used = self.tripped.load(Ordering::Relaxed);
        (used > 0).then_some(ProcessError::OutOfMemory {
            used_mb: used,
            limit_mb: self.limit_mb,
        })
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_private_memory_and_the_machine_has_some() {
        let mine = tree_memory_mb(std::process::id()).expect("/proc tells");
        assert!(mine > 0);
        assert!(total_memory_mb().unwrap() > mine);
        assert!(default_memory_limit_mb(1) >= default_memory_limit_mb(64));
        assert!(default_memory_limit_mb(1_000_000) >= 1024);
        assert_eq!(tree_memory_mb(u32::MAX - 1), None);
    }

    #[test]
    fn a_captured_child_gives_its_output_and_status() {
        let mut command = Command::new("sh");
        command
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = spawn_group(&mut command).unwrap();
        let captured = capture_bounded(child, Duration::from_secs(20), None).unwrap();
        assert_eq!(captured.status.code(), Some(3));
        assert_eq!(
            (captured.stdout.as_str(), captured.stderr.as_str()),
            ("out\n", "err\n")
        );
    }

    #[test]
    fn a_process_that_grows_past_its_limit_is_killed() {
        // A shell that fills 200 MB of private memory, then sleeps.
        let mut command = Command::new("python3");
        command.args([
            "-c",
            "import time; b = bytearray(200 * 2**20); time.sleep(30)",
        ]);
        let Ok(mut child) = spawn_group(&mut command) else {
            eprintln!("SKIPPED a_process_that_grows_past_its_limit_is_killed: no python3");
            return;
        };
        let started = Instant::now();
        match wait_bounded(&mut child, Duration::from_secs(20), Some(50)) {
            Err(ProcessError::OutOfMemory { used_mb, limit_mb }) => {
                assert!(used_mb > 50 && limit_mb == 50, "{used_mb} {limit_mb}")
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
        let mut command = Command::new("sleep");
        command.arg("30");
        let mut child = spawn_group(&mut command).unwrap();
        assert_eq!(exit_within(&mut child, Duration::from_millis(50)), None);
        assert!(matches!(
            wait_bounded(&mut child, Duration::from_millis(200), Some(1 << 20)),
            Err(ProcessError::Timeout(_))
        ));
        let mut command = Command::new("true");
        let mut child = spawn_group(&mut command).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !has_exited(child.id()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(has_exited(child.id()), "seen without reaping");
        assert!(exit_within(&mut child, Duration::from_secs(20)).is_some_and(|s| s.success()));
    }
}
