//! Checking a candidate step with Lean: the document is copied with the step inserted (a
//! shadow copy, never written to disk nor shown to the editor) and elaborated by a language
//! server of the proxy's own. An error that starts inside the step fails it; otherwise the goals
//! after it decide: none left and no error in the declaration means the step completes the
//! proof.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lsp_types::Position;

use crate::lean::lsp::diagnostic::LeanDiagnostic;
use crate::lean::server::{LeanServer, ServerOptions};
use crate::lean::{LeanCommand, LeanError};
use crate::serve::lsp::cursor::Shadow;

/// What Lean said about one candidate in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No goal is left and the declaration has no error: the step finishes the proof.
    Completes,
    /// The step works; these goals remain (or another part of the declaration still fails).
    Valid(Vec<String>),
    /// Lean rejected the step with this message.
    Fails(String),
}

/// One language server that checks candidates in shadow copies of the editor's documents.
pub struct ShadowChecker {
    cmd: LeanCommand,
    options: ServerOptions,
    index: usize,
    server: Option<LeanServer>,
    /// The shadow document open in `server`, if any.
    open: Option<PathBuf>,
}

impl ShadowChecker {
    /// A checker that runs `cmd --server` when first needed; `index` keeps the shadow file names
    /// of several checkers apart.
    pub fn new(cmd: LeanCommand, timeout: Duration, index: usize) -> Self {
        ShadowChecker {
            cmd,
            options: ServerOptions {
                start_timeout: Duration::from_secs(60),
                open_timeout: Duration::from_secs(600),
                timeout,
            },
            index,
            server: None,
            open: None,
        }
    }

    /// Starts the server now (so the first suggestion does not pay for it).
    pub fn warm(&mut self) -> Result<(), LeanError> {
        self.server().map(|_| ())
    }

    fn server(&mut self) -> Result<&mut LeanServer, LeanError> {
        let alive = self.server.as_mut().is_some_and(|s| s.is_alive());
        if !alive {
            self.open = None;
            self.server = Some(LeanServer::start_with(&self.cmd, self.options.clone())?);
        }
        Ok(self.server.as_mut().expect("started above"))
    }

    /// The shadow path for a document: beside it (so Lean resolves it in the same project),
    /// under a name no editor opens.
    pub fn shadow_path(&self, document: &Path) -> PathBuf {
        let name = document
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "Doc.lean".into());
        let dir = document
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        dir.join(format!(".proofstep-shadow-{}-{name}", self.index))
    }

    /// Checks one candidate inserted into `shadow` (see `cursor::shadow`); `declaration_line`
    /// is where the declaration holding it starts.
    pub fn check(
        &mut self,
        document: &Path,
        shadow: &Shadow,
        declaration_line: u32,
    ) -> Result<Verdict, LeanError> {
        let path = self.shadow_path(document);
        let previous = self.open.clone();
        let server = self.server()?;
        if let Some(old) = previous.filter(|p| *p != path) {
            server.close(&old)?;
        }
        let result = check_in(server, &path, shadow, declaration_line);
        self.open = match &result {
            Ok(_) => Some(path),
            Err(_) => None,
        };
        result
    }
}

fn check_in(
    server: &mut LeanServer,
    path: &Path,
    shadow: &Shadow,
    declaration_line: u32,
) -> Result<Verdict, LeanError> {
    let diagnostics = server.change(path, &shadow.text)?;
    if let Some(failure) = diagnostics.iter().find(|d| {
        (d.is_error() || d.is_sorry_warning()) && starts_within(d, shadow.start, shadow.end)
    }) {
        return Ok(Verdict::Fails(failure.lsp.message.clone()));
    }
    let goals = server.goals_at(path, shadow.end.line, shadow.end.character)?;
    let declaration_clean = !diagnostics
        .iter()
        .any(|d| (d.is_error() || d.is_sorry_warning()) && d.start().line >= declaration_line);
    Ok(match goals {
        Some(goals) if goals.is_empty() && declaration_clean => Verdict::Completes,
        Some(goals) => Verdict::Valid(goals),
        None => Verdict::Valid(Vec::new()),
    })
}

/// Whether the diagnostic starts inside the candidate (its end included: Lean puts "expected
/// term" errors just after the text).
fn starts_within(d: &LeanDiagnostic, start: Position, end: Position) -> bool {
    let at = d.start();
    let key = |p: Position| (p.line, p.character);
    key(at) >= key(start) && key(at) <= key(end)
}
