//! What an interrupted run leaves behind — Ctrl-C, `kill`, a scheduler's SIGTERM, a closed
//! terminal's SIGHUP: nothing of its own. Every process group `process::spawn_group` starts,
//! and every temporary file or folder registered here, is tracked while it lives; the handler
//! [`install`] sets marks the run interrupted (no result computed after that moment is
//! written, no new process is started), kills the groups, removes the temporary paths and
//! exits with [`EXIT_CODE`]. Without it each Lean, which leads a process group of its own so
//! that a deadline can kill it whole, never saw the terminal's Ctrl-C and ran on, unwatched
//! for memory, after proofstep was gone.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::process::kill_group;

/// The exit code of an interrupted run (128 + SIGINT, as a shell reports Ctrl-C).
pub const EXIT_CODE: i32 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

static LIVE: Mutex<BTreeSet<Entry>> = Mutex::new(BTreeSet::new());

/// One tracked thing.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Group(u32),
    File(PathBuf),
    Folder(PathBuf),
}

/// A process group or temporary path tracked while this lives; dropping it ends the tracking
/// (the group was waited for, the file renamed into place or deleted).
#[must_use = "the tracking ends when this is dropped"]
pub struct Tracked(Entry);

impl Tracked {
    fn start(entry: Entry) -> Tracked {
        lock().insert(entry.clone());
        Tracked(entry)
    }

    /// Runs `f` (the rename that puts a tracked folder in its place) under the lock the handler
    /// holds while it cleans up, so the handler cannot be deleting the folder while it moves
    /// under another name; then ends the tracking (a handler between the two finds the old
    /// path gone).
    pub fn finish<R>(self, f: impl FnOnce() -> R) -> R {
        let live = lock();
        let result = f();
        drop(live);
        result
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}

fn lock() -> MutexGuard<'static, BTreeSet<Entry>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the child `spawn` makes and tracks its group, under the lock the handler holds while
/// it cleans up: a child is started and tracked before the handler takes its list, or not at
/// all (an error of kind `Interrupted`).
pub(crate) fn spawn_tracked(
    spawn: impl FnOnce() -> std::io::Result<Child>,
) -> std::io::Result<(Child, Tracked)> {
    let mut live = lock();
    if is_interrupted() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "the run was interrupted",
        ));
    }
    let child = spawn()?;
    let entry = Entry::Group(child.id());
    live.insert(entry.clone());
    Ok((child, Tracked(entry)))
}

/// Tracks a temporary file: an interrupted run deletes it.
pub fn track_file(path: PathBuf) -> Tracked {
    Tracked::start(Entry::File(path))
}

/// Tracks a temporary folder: an interrupted run deletes it with everything in it.
pub fn track_folder(path: PathBuf) -> Tracked {
    Tracked::start(Entry::Folder(path))
}

/// True once the run is interrupted: what is computed from now on may rest on a Lean that was
/// killed, and is not to be written down as a result.
pub fn is_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Marks the run interrupted, then, holding the tracking lock from then on (the process is
/// about to exit), kills every tracked group and removes every tracked path. No process is
/// started after this (`spawn_tracked` waits on the lock), and no tracked folder is renamed
/// into place while it is being removed (`Tracked::finish`).
fn interrupt_now() -> MutexGuard<'static, BTreeSet<Entry>> {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let live = lock();
    for entry in live.iter() {
        match entry {
            Entry::Group(pid) => kill_group(*pid),
            Entry::File(path) => {
                let _ = std::fs::remove_file(path);
            }
            Entry::Folder(path) => {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
    live
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP: kill every tracked group, remove
/// every tracked path, then exit with [`EXIT_CODE`]. For commands that have no graceful stop of
/// their own (`train` has: it saves a checkpoint first, and starts no Lean). A signal the run
/// was started ignoring stays ignored: `nohup` (SIGHUP) and a non-interactive shell's
/// background job (SIGINT) keep their meaning.
pub fn install() -> Result<(), ctrlc::Error> {
    set_handler(|| {
        let _held = interrupt_now();
        // A closed terminal or pipe must not keep the process from exiting.
        let _ = writeln!(
            std::io::stderr(),
            "\ninterrupted: stopped the Lean processes this run started"
        );
        std::process::exit(EXIT_CODE);
    })
}

/// `ctrlc::set_handler` for SIGINT, SIGTERM and SIGHUP, leaving a signal the process was
/// started ignoring ignored (`train`'s graceful stop uses it too).
pub fn set_handler(handler: impl FnMut() + Send + 'static) -> Result<(), ctrlc::Error> {
    let signals = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    let ignored: Vec<libc::c_int> = signals.into_iter().filter(|&s| is_ignored(s)).collect();
    ctrlc::set_handler(handler)?;
    for signal in ignored {
        // SAFETY: signal(2) setting the disposition back to SIG_IGN; no handler runs.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    Ok(())
}

/// Never returns once the run is interrupted: the handler is cleaning up and will exit with
/// [`EXIT_CODE`]; `main` waits for it rather than exit first with the error a killed Lean
/// caused.
pub fn wait_if_interrupted() {
    while is_interrupted() {
        std::thread::park();
    }
}

/// True when `signal`'s disposition is SIG_IGN.
fn is_ignored(signal: libc::c_int) -> bool {
    // SAFETY: sigaction(2) with no new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_ends_when_the_guard_is_dropped() {
        let path = PathBuf::from("/nonexistent/proofstep-interrupt-test");
        let tracked = track_file(path.clone());
        assert!(lock().contains(&Entry::File(path.clone())));
        drop(tracked);
        assert!(!lock().contains(&Entry::File(path)));
    }
}
