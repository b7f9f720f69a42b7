//! Running Lean's processes within bounds: each in a process group of its own (so a kill
//! reaches `lake env`'s child and the server's workers too), waited for with a deadline, and
//! watched for memory — a Lean that grows past its limit is killed like one that hangs, and the
//! step that made it grow counts as failed.

use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::lean::error::LeanError;

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

/// Starts `command` as the leader of a new process group.
pub fn spawn_group(command: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    command.process_group(0).spawn()
}

/// Kills the whole process group led by `pid` (the process, and every child it started).
pub fn kill_group(pid: u32) {
    // SAFETY: kill(2) on a process group this module created; no memory is touched.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
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
) -> Result<ExitStatus, LeanError> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let mut next_memory_read = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child.id());
            let _ = child.wait();
            return Err(LeanError::Timeout(timeout));
        }
        if let Some(limit) = memory_limit_mb {
            if now >= next_memory_read {
                next_memory_read = now + MEMORY_POLL;
                if let Some(used) = tree_memory_mb(child.id()).filter(|&used| used > limit) {
                    kill_group(child.id());
                    let _ = child.wait();
                    return Err(LeanError::OutOfMemory {
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
    pub fn tripped(&self) -> Option<LeanError> {
        let used = self.tripped.load(Ordering::Relaxed);
        (used > 0).then_some(LeanError::OutOfMemory {
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
            Err(LeanError::OutOfMemory { used_mb, limit_mb }) => {
                assert!(used_mb > 50 && limit_mb == 50, "{used_mb} {limit_mb}")
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
        let mut command = Command::new("sleep");
        command.arg("30");
        let mut child = spawn_group(&mut command).unwrap();
        assert!(matches!(
            wait_bounded(&mut child, Duration::from_millis(200), Some(1 << 20)),
            Err(LeanError::Timeout(_))
        ));
    }
}
