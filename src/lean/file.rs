//! Whole-file checking with `lean --json`: the `FileBackend` (a `ProofBackend` that needs only a
//! `lean`, no repl or server) and `check_source`, which checks every theorem of a file in one
//! Lean run and attributes the diagnostics by position.
//!
//! Goals come from a trick: the proof so far is followed by `done`, which fails with
//! "unsolved goals" and the goals when any remain. To be sure a theorem Lean reported nothing
//! about was really elaborated, and does not lean on a `sorry` elsewhere, whole-file and
//! `verify` checks append `#print axioms` for each named theorem.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::lean::backend::{proof_text, Outcome, ProofBackend, ProofState};
use crate::lean::command::LeanCommand;
use crate::lean::diagnostics::{self, parse_output, Diagnostic, JsonOutput};
use crate::lean::error::LeanError;
use crate::lean::source::{mentions_sorry, mentions_sorry_ax, Pos, Region, SourceFile};
use crate::lean::verdict::{Status, Verdict};

/// How long one `lean --json` run may take by default before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// What one `lean --json` run printed, and how it ended.
#[derive(Clone, Debug)]
pub struct LeanRun {
    /// The diagnostics and any other stdout lines.
    pub output: JsonOutput,
    /// Lean's stderr.
    pub stderr: String,
    /// Lean's exit status.
    pub status: ExitStatus,
}

impl LeanRun {
    /// True when Lean died without reporting why in a diagnostic (crash, signal, panic): its
    /// silence about a theorem then means nothing.
    pub fn crashed(&self) -> bool {
        !self.status.success() && !self.output.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// A one-line description of a crash, for error messages.
    pub fn crash_report(&self) -> String {
        let mut text = format!("lean exited with {}", self.status);
        let lines: Vec<&str> = self
            .output
            .other
            .iter()
            .map(String::as_str)
            .chain(self.stderr.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let tail = &lines[lines.len().saturating_sub(3)..];
        if !tail.is_empty() {
            text.push_str(": ");
            text.push_str(&tail.join(" | "));
        }
        text
    }
}

/// Runs `cmd --json FILE` with a timeout. On timeout the whole process group (`lake` and the
/// `lean` it started) is killed.
pub fn run_lean_json(
    cmd: &LeanCommand,
    file: &Path,
    timeout: Duration,
) -> Result<LeanRun, LeanError> {
    let mut command = cmd.to_command();
    command
        .arg("--json")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn().map_err(|e| LeanError::Spawn {
        program: cmd.program.clone(),
        reason: e.to_string(),
    })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_timeout(&mut child, timeout)?;
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok(LeanRun {
        output: parse_output(&stdout),
        stderr,
        status,
    })
}

/// Reads a pipe to its end on a thread (so neither pipe can fill up and stall Lean).
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

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<ExitStatus, LeanError> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            // SAFETY: kill(2) on the process group this function's caller created; no memory
            // is touched.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            return Err(LeanError::Timeout(timeout));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Writes `text` to a fresh `.lean` file and runs `lean --json` on it.
pub fn check_text(cmd: &LeanCommand, text: &str, timeout: Duration) -> Result<LeanRun, LeanError> {
    let dir = std::env::temp_dir();
    let mut file = tempfile::Builder::new()
        .prefix("proofstep_")
        .suffix(".lean")
        .tempfile_in(&dir)
        .map_err(|source| LeanError::Io {
            path: dir.clone(),
            source,
        })?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.flush())
        .map_err(|source| LeanError::Io {
            path: file.path().to_path_buf(),
            source,
        })?;
    run_lean_json(cmd, file.path(), timeout)
}

/// What `#print axioms` said about one theorem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Axioms {
    /// Declared; depends on `sorryAx` or not.
    Declared { sorry: bool },
    /// Lean does not know the name: the theorem was never added.
    Unknown,
}

/// Reads a diagnostic on a `#print axioms` line: any information message is the answer
/// (Lean lists the axioms, `sorryAx` among them when a `sorry` is used); "unknown constant"
/// means the theorem was never added. `None` for anything else (e.g. a parse error that
/// spilled onto the line).
fn axioms_answer(d: &Diagnostic) -> Option<Axioms> {
    if !d.is_error() && d.severity != diagnostics::Severity::Warning {
        return Some(Axioms::Declared {
            sorry: d.data.contains("sorryAx"),
        });
    }
    let lower = d.data.to_lowercase();
    (d.is_error()
        && (lower.starts_with("unknown constant") || lower.starts_with("unknown identifier")))
    .then_some(Axioms::Unknown)
}

/// The name to give `#print axioms` so it resolves from any namespace.
fn root_name(full_name: &str) -> String {
    format!("_root_.{full_name}")
}

/// Adjusts a named theorem's own verdict with what `#print axioms` said about it. No answer
/// at all means Lean stopped before the end of the text (an unterminated comment, `#exit`),
/// so nothing confirms the theorem was checked.
fn apply_axioms(mut verdict: Verdict, axioms: Option<Axioms>, name: &str) -> Verdict {
    match axioms {
        Some(Axioms::Declared { sorry: true }) if verdict.status == Status::Proved => {
            verdict.status = Status::Sorry;
        }
        Some(Axioms::Declared { .. }) => {}
        _ if verdict.status == Status::Error => {}
        Some(Axioms::Unknown) => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean never added `{name}` to the environment (an earlier parse error may have swallowed it)"
            ));
        }
        None => {
            verdict.status = Status::Error;
            verdict.errors.push(format!(
                "Lean stopped before confirming `{name}` (an unterminated comment or string, or `#exit`, cut the file short)"
            ));
        }
    }
    verdict
}

/// The verdict on each theorem of a file, from one Lean run.
#[derive(Clone, Debug)]
pub struct FileVerdicts {
    /// One verdict per theorem of the `SourceFile`, in order.
    pub verdicts: Vec<Verdict>,
    /// Errors in the header (before the first theorem); when there are any, every theorem is
    /// an error too.
    pub header_errors: Vec<String>,
}

/// Checks every theorem of `source` with one `lean --json` run and classifies each by the
/// diagnostics inside its span (see the module documentation).
pub fn check_source(
    cmd: &LeanCommand,
    source: &SourceFile,
    timeout: Duration,
) -> Result<FileVerdicts, LeanError> {
    let mut text = source.text[..source.lean_end].to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let original_lines = text.lines().count() as u32;
    // Line number of each theorem's `#print axioms`.
    let mut print_lines: Vec<Option<u32>> = Vec::with_capacity(source.theorems.len());
    let mut next_line = original_lines + 2;
    text.push('\n');
    for theorem in &source.theorems {
        match &theorem.full_name {
            Some(name) => {
                text.push_str(&format!("#print axioms {}\n", root_name(name)));
                print_lines.push(Some(next_line));
                next_line += 1;
            }
            None => print_lines.push(None),
        }
    }
    let run = check_text(cmd, &text, timeout)?;
    if run.crashed() {
        return Err(LeanError::Died(run.crash_report()));
    }

    let n = source.theorems.len();
    let mut own: Vec<Vec<&Diagnostic>> = vec![Vec::new(); n];
    let mut axioms: Vec<Option<Axioms>> = vec![None; n];
    let mut header_errors = Vec::new();
    // A parse error left open at the end of the file meets the appended `#print`; without it
    // Lean says "unexpected end of input", so say that.
    let spills = |d: &Diagnostic| {
        d.pos.line > original_lines || d.end_pos.is_some_and(|e| e.line > original_lines)
    };
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for d in &run.output.diagnostics {
        if let Some(i) = print_lines.iter().position(|&l| l == Some(d.pos.line)) {
            if let Some(answer) = axioms_answer(d) {
                axioms[i] = Some(answer);
                continue;
            }
        }
        let mut d = d.clone();
        if spills(&d) {
            d.data = d
                .data
                .replacen("unexpected token '#print'", "unexpected end of input", 1);
        }
        diagnostics.push(d);
    }
    // Positionless "unsolved goals" (Lean puts them at 1:0 after a parse error inside a proof)
    // belong, in order, to the theorems whose proofs have a parse error; not to the header.
    let mut broken = (0..n).filter(|&i| {
        diagnostics
            .iter()
            .any(|d| d.is_parse_error() && source.region(d.pos) == Region::Theorem(i))
    });
    for d in &diagnostics {
        if d.is_positionless_unsolved_goals() {
            if let Some(i) = broken.next() {
                own[i].push(d);
                continue;
            }
        }
        match source.region(d.pos) {
            Region::Header if d.is_error() => header_errors.push(d.data.trim_end().to_string()),
            Region::Theorem(i) => own[i].push(d),
            Region::Between if d.is_error() => {
                tracing::debug!(line = d.pos.line, "error outside any theorem: {}", d.data)
            }
            _ => {}
        }
    }

    let verdicts = source
        .theorems
        .iter()
        .enumerate()
        .map(|(i, theorem)| {
            let verdict =
                diagnostics::verdict(own[i].iter().copied(), mentions_sorry_ax(&theorem.proof));
            let mut verdict = match theorem.full_name {
                Some(_) => apply_axioms(verdict, axioms[i], &theorem.display_name()),
                None => verdict,
            };
            if !header_errors.is_empty() {
                verdict.status = Status::Error;
                verdict.errors.insert(
                    0,
                    format!(
                        "the file's header (before the first theorem) has errors: {}",
                        header_errors[0]
                    ),
                );
            }
            verdict
        })
        .collect();
    Ok(FileVerdicts {
        verdicts,
        header_errors,
    })
}

/// A theorem written into a file for one check, and where its parts landed.
struct Layout {
    text: String,
    /// First line of the statement (lines before it are the header).
    theorem_line: u32,
    /// Where `by` is: diagnostics before it are about the statement.
    by: Pos,
    /// The line of the trailing `done`, if any.
    done_line: Option<u32>,
    /// The line of the trailing `#print axioms`, if any.
    print_line: Option<u32>,
}

impl Layout {
    /// `header`, then `statement := by`, then `body` (already indented), then optionally
    /// `done` and `#print axioms NAME`.
    fn new(header: &str, statement: &str, body: &str, done: bool, print: Option<&str>) -> Layout {
        let mut text = String::with_capacity(header.len() + statement.len() + body.len() + 64);
        text.push_str(header);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let theorem_line = text.matches('\n').count() as u32 + 1;
        let statement = statement.trim_end();
        text.push_str(statement);
        text.push_str(" := ");
        let last_statement_line = statement.rsplit('\n').next().unwrap_or("");
        let by = Pos::new(
            theorem_line + statement.matches('\n').count() as u32,
            last_statement_line.chars().count() as u32 + 4,
        );
        text.push_str("by\n");
        text.push_str(body);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let mut done_line = None;
        if done {
            done_line = Some(text.matches('\n').count() as u32 + 1);
            text.push_str("  done\n");
        }
        let mut print_line = None;
        if let Some(name) = print {
            print_line = Some(text.matches('\n').count() as u32 + 2);
            text.push_str(&format!("\n#print axioms {}\n", root_name(name)));
        }
        Layout {
            text,
            theorem_line,
            by,
            done_line,
            print_line,
        }
    }
}

/// A run's diagnostics sorted by the part of the layout they are about.
struct Parts<'a> {
    header: Vec<&'a Diagnostic>,
    statement: Vec<&'a Diagnostic>,
    proof: Vec<&'a Diagnostic>,
    axioms: Option<Axioms>,
}

impl<'a> Parts<'a> {
    fn of(layout: &Layout, run: &'a LeanRun) -> Parts<'a> {
        let mut parts = Parts {
            header: Vec::new(),
            statement: Vec::new(),
            proof: Vec::new(),
            axioms: None,
        };
        for d in &run.output.diagnostics {
            if Some(d.pos.line) == layout.print_line {
                if let Some(answer) = axioms_answer(d) {
                    parts.axioms = Some(answer);
                    continue;
                }
            }
            if d.is_positionless_unsolved_goals() {
                // The theorem's goals after a parse error in its proof (see the method).
                parts.proof.push(d);
            } else if d.pos.line < layout.theorem_line {
                parts.header.push(d);
            } else if d.pos < layout.by {
                parts.statement.push(d);
            } else {
                parts.proof.push(d);
            }
        }
        parts
    }

    fn header_error(&self) -> Option<LeanError> {
        let errors = messages(self.header.iter().copied().filter(|d| d.is_error()));
        (!errors.is_empty()).then_some(LeanError::Header(errors))
    }

    fn statement_error(&self) -> Option<LeanError> {
        let errors = messages(self.statement.iter().copied().filter(|d| d.is_error()));
        (!errors.is_empty()).then_some(LeanError::Statement(errors))
    }
}

fn messages<'a>(diags: impl Iterator<Item = &'a Diagnostic>) -> String {
    diags
        .map(|d| d.data.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `ProofBackend` that re-checks header + statement + steps with `lean --json` in a fresh
/// process for every request. Slower than the repl, but needs nothing beyond `lean`; requests
/// from several threads run as parallel processes.
#[derive(Clone, Debug)]
pub struct FileBackend {
    cmd: LeanCommand,
    timeout: Duration,
}

impl FileBackend {
    /// A backend running `cmd` (`lean`, or `lake env lean`) with the default timeout.
    pub fn new(cmd: LeanCommand) -> Self {
        FileBackend {
            cmd,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same backend with another per-check timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command it runs Lean with.
    pub fn command(&self) -> &LeanCommand {
        &self.cmd
    }

    fn run(&self, layout: &Layout) -> Result<LeanRun, LeanError> {
        let run = check_text(&self.cmd, &layout.text, self.timeout)?;
        if run.crashed() {
            return Err(LeanError::Died(run.crash_report()));
        }
        Ok(run)
    }

    /// Checks `steps` followed by `done`: Proved, Open with the goals `done` reports, or Failed.
    fn step(
        &self,
        header: &str,
        statement: &str,
        steps: &[String],
    ) -> Result<(Outcome, Vec<String>), LeanError> {
        let layout = Layout::new(header, statement, &proof_text(steps), true, None);
        let run = self.run(&layout)?;
        let parts = Parts::of(&layout, &run);
        if let Some(e) = parts.header_error().or_else(|| parts.statement_error()) {
            return Err(e);
        }
        let at_done =
            |d: &Diagnostic| Some(d.pos.line) == layout.done_line && d.is_unsolved_goals();
        let errors: Vec<&Diagnostic> = parts
            .proof
            .iter()
            .copied()
            .filter(|d| d.is_error())
            .collect();
        let failures: Vec<&Diagnostic> = errors.iter().copied().filter(|d| !at_done(d)).collect();
        if !failures.is_empty() {
            return Ok((Outcome::Failed(messages(failures.into_iter())), Vec::new()));
        }
        let sorry = parts.proof.iter().any(|d| d.is_sorry_warning())
            || steps.iter().any(|s| mentions_sorry(s));
        if sorry {
            return Ok((
                Outcome::Failed(
                    "the tactic closes a goal with `sorry`, which proves nothing".into(),
                ),
                Vec::new(),
            ));
        }
        let goals: Vec<String> = errors.iter().flat_map(|d| d.goals()).collect();
        let state = ProofState {
            header: Arc::from(header),
            statement: Arc::from(statement),
            steps: steps.to_vec(),
            goals: goals.clone(),
            handle: None,
        };
        Ok(if errors.is_empty() {
            (Outcome::Proved(state), goals)
        } else {
            (Outcome::Open(state), goals)
        })
    }
}

impl ProofBackend for FileBackend {
    fn start(&self, header: &str, statement: &str) -> Result<ProofState, LeanError> {
        match self.step(header, statement, &[])? {
            (Outcome::Open(state), goals) if !goals.is_empty() => Ok(state),
            (Outcome::Failed(message), _) => Err(LeanError::Statement(message)),
            _ => Err(LeanError::Statement(
                "Lean reported no goal for this statement; give a `theorem`/`example` with a type"
                    .into(),
            )),
        }
    }

    fn apply(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError> {
        let mut steps = state.steps.clone();
        steps.push(tactic.to_string());
        Ok(self.step(&state.header, &state.statement, &steps)?.0)
    }

    fn verify(&self, header: &str, statement: &str, proof: &str) -> Result<Verdict, LeanError> {
        let probe = SourceFile::parse(&format!("{header}\n{} := by\n", statement.trim_end()));
        let name = probe.theorems.last().and_then(|t| t.full_name.clone());
        let layout = Layout::new(
            header,
            statement,
            &proof_text(&[proof.to_string()]),
            false,
            name.as_deref(),
        );
        let run = self.run(&layout)?;
        let parts = Parts::of(&layout, &run);
        if let Some(e) = parts.header_error() {
            return Err(e);
        }
        let own = parts.statement.iter().chain(parts.proof.iter()).copied();
        let verdict = diagnostics::verdict(own, mentions_sorry_ax(proof));
        Ok(match &name {
            Some(name) => apply_axioms(verdict, parts.axioms, name),
            None => verdict,
        })
    }

    fn name(&self) -> &'static str {
        "file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_positions() {
        let l = Layout::new(
            "prelude\nimport Mini",
            "theorem t (p : Prop)\n    (h : p) : p ∧ p",
            &proof_text(&["constructor".into()]),
            true,
            Some("t"),
        );
        assert_eq!(
            l.text,
            "prelude\nimport Mini\ntheorem t (p : Prop)\n    (h : p) : p ∧ p := by\n  constructor\n  done\n\n#print axioms _root_.t\n"
        );
        assert_eq!(l.theorem_line, 3);
        assert_eq!(l.by, Pos::new(4, 23));
        assert_eq!(l.done_line, Some(6));
        assert_eq!(l.print_line, Some(8));
    }

    #[test]
    fn axioms_answers() {
        let info = |data: &str| Diagnostic {
            severity: diagnostics::Severity::Information,
            pos: Pos::new(1, 0),
            end_pos: None,
            data: data.into(),
            kind: None,
            file_name: None,
            caption: None,
        };
        assert_eq!(
            axioms_answer(&info("'a' depends on axioms: [sorryAx]")),
            Some(Axioms::Declared { sorry: true })
        );
        assert_eq!(
            axioms_answer(&info("'a' depends on axioms: [propext]")),
            Some(Axioms::Declared { sorry: false })
        );
        assert_eq!(
            axioms_answer(&info("'a' does not depend on any axioms")),
            Some(Axioms::Declared { sorry: false })
        );
        let mut unknown = info("Unknown constant `_root_.a`");
        unknown.severity = diagnostics::Severity::Error;
        assert_eq!(axioms_answer(&unknown), Some(Axioms::Unknown));
        unknown.data = "unexpected token '#print'; expected ')'".into();
        assert_eq!(axioms_answer(&unknown), None);
    }
}
