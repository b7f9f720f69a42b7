//! `ServerBackend`: the `ProofBackend` on Lean's language server. Each import block gets one
//! document (so its imports are loaded once per server, by one Lean worker); a theorem's proof
//! is edited in place with `didChange`, and Lean re-elaborates only what changed — theorems
//! of one file, whose headers differ only by the declarations before them, share a document. Diagnostics decide every
//! outcome; `$/lean/plainGoal` at the end of the last tactic gives the goals.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use lsp_types::DiagnosticSeverity;

use crate::axioms::AxiomPolicy;
use crate::backend::layout::{ProbeAnswers, TheoremText};
use crate::backend::{Outcome, ProofBackend, ProofState};
use crate::command::LeanCommand;
use crate::error::LeanError;
use crate::lsp::diagnostic::{LeanDiagnostic, ProofReport};
use crate::lsp::server::{LeanServer, ServerOptions};
use crate::message::{self, Diagnostic};
use crate::reserved::{same_build, ImportsCache};
use crate::source::mentions_sorry;
use crate::verdict::Verdict;

/// How many servers to run and how many documents each keeps open.
#[derive(Clone, Debug)]
pub struct ServerBackendOptions {
    /// Independent server processes; requests on different headers or from different threads
    /// run in parallel across them.
    pub workers: usize,
    /// Documents (one per import block, each a Lean worker process holding those imports)
    /// kept open per server; the least recently used is closed beyond this.
    pub max_documents: usize,
    /// Timeouts of each server.
    pub server: ServerOptions,
    /// Folder the (never written) document paths live in: the Lake project root for `lake env
    /// lean`, so Lean resolves imports as for the project's own files.
    pub scratch_dir: Option<PathBuf>,
    /// Ask `$/lean/plainGoal` for the goals after each step (one more round trip, about a
    /// third of a step's time on the test world). Off: the goals are read from Lean's
    /// "unsolved goals" errors alone, which list the same text.
    pub plain_goal: bool,
    /// The axioms a verified proof may rest on.
    pub policy: AxiomPolicy,
}

impl Default for ServerBackendOptions {
    fn default() -> Self {
        ServerBackendOptions {
            workers: 1,
            max_documents: 4,
            server: ServerOptions::default(),
            scratch_dir: None,
            plain_goal: true,
            policy: AxiomPolicy::default(),
        }
    }
}

/// One server and the documents open in it.
struct Slot {
    index: usize,
    server: Option<LeanServer>,
    /// The open documents, least recently used first.
    docs: Vec<Doc>,
}

/// One open document: a Lean worker holding one import block's environment.
struct Doc {
    imports: Arc<str>,
    path: PathBuf,
    /// The imported modules' build when it was opened (`LeanCommand::library_stamp`).
    stamp: String,
}

/// Document names must not collide between backends of one process.
static DOC_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The `ProofBackend` on Lean's language server (see the module documentation).
pub struct ServerBackend {
    cmd: LeanCommand,
    options: ServerBackendOptions,
    slots: Vec<Mutex<Slot>>,
    /// What each module header's imports declare among the reserved names.
    imports: ImportsCache,
}

impl ServerBackend {
    /// Starts `options.workers` servers from `cmd` (which runs `lean` or `lake env lean`).
    pub fn start(cmd: &LeanCommand, options: ServerBackendOptions) -> Result<Self, LeanError> {
        let workers = options.workers.max(1);
        let mut slots = Vec::with_capacity(workers);
        for index in 0..workers {
            let server = LeanServer::start_with(cmd, options.server.clone())?;
            slots.push(Mutex::new(Slot {
                index,
                server: Some(server),
                docs: Vec::new(),
            }));
        }
        Ok(ServerBackend {
            cmd: cmd.clone(),
            options,
            slots,
            imports: ImportsCache::default(),
        })
    }

    /// The process ids of the running servers (for monitoring, and for tests that stop one).
    pub fn server_pids(&self) -> Vec<u32> {
        self.slots
            .iter()
            .filter_map(|s| lock(s).server.as_ref().map(LeanServer::pid))
            .collect()
    }

    /// A free slot, preferring the one these imports usually go to (their document is there).
    fn slot(&self, imports: &str) -> MutexGuard<'_, Slot> {
        let mut h = DefaultHasher::new();
        imports.hash(&mut h);
        let home = (h.finish() % self.slots.len() as u64) as usize;
        for k in 0..self.slots.len() {
            if let Ok(guard) = self.slots[(home + k) % self.slots.len()].try_lock() {
                return guard;
            }
        }
        lock(&self.slots[home])
    }

    /// The folder the (never written) document paths live in.
    fn scratch_dir(&self) -> PathBuf {
        self.options
            .scratch_dir
            .clone()
            .or_else(|| self.cmd.cwd.clone())
            .unwrap_or_else(std::env::temp_dir)
    }

    /// The slot's server, replacing a dead one (its documents are forgotten).
    fn live_server<'s>(&self, slot: &'s mut Slot) -> Result<&'s mut LeanServer, LeanError> {
        let alive = slot.server.as_mut().is_some_and(LeanServer::is_alive);
        if !alive {
            if slot.server.is_some() {
                tracing::warn!(target: "lean_server", slot = slot.index, "Lean server died; starting a new one");
            }
            slot.server = None;
            slot.docs.clear();
            slot.server = Some(LeanServer::start_with(
                &self.cmd,
                self.options.server.clone(),
            )?);
        }
        Ok(slot.server.as_mut().expect("started above"))
    }

    /// Writes `layout` into its header's document, waits for Lean, and returns the theorem's
    /// diagnostics and the goals at the end of the proof. Header errors are
    /// `LeanError::Header`. A dead server is replaced first. With `stamp` (a final check: the
    /// build of the imports its answers about them came from), a document opened under
    /// another build is closed and opened again, so its Lean worker loads the imports as they
    /// are now; a search step reuses whatever document is open.
    fn check(
        &self,
        header: &str,
        layout: &TheoremText,
        goals_at_end: bool,
        stamp: Option<&str>,
    ) -> Result<Checked, LeanError> {
        let imports = import_block(header);
        let mut slot = self.slot(&imports);
        let slot = &mut *slot;
        self.live_server(slot)?;
        let server = slot.server.as_mut().expect("started above");
        let mut open = slot.docs.iter().position(|d| *d.imports == *imports);
        if let (Some(i), Some(stamp)) = (open, stamp) {
            if slot.docs[i].stamp != stamp {
                let stale = slot.docs.remove(i);
                server.close(&stale.path)?;
                open = None;
            }
        }
        let path = match open {
            Some(i) => {
                let doc = slot.docs.remove(i);
                let path = doc.path.clone();
                slot.docs.push(doc);
                path
            }
            None => {
                if slot.docs.len() >= self.options.max_documents.max(1) {
                    let old = slot.docs.remove(0);
                    server.close(&old.path)?;
                }
                let n = DOC_COUNTER.fetch_add(1, Ordering::Relaxed);
                let path = self
                    .scratch_dir()
                    .join(format!("ProofstepServer{}_{n}.lean", std::process::id()));
                let stamp = stamp.map_or_else(|| self.cmd.library_stamp(header), str::to_string);
                slot.docs.push(Doc {
                    imports: Arc::from(imports.as_str()),
                    path: path.clone(),
                    stamp,
                });
                path
            }
        };
        let diagnostics = server.change(&path, &layout.text)?;
        let theorem_line = layout.line(layout.statement_start);
        let mut probes = ProbeAnswers::default();
        let diagnostics: Vec<LeanDiagnostic> = diagnostics
            .into_iter()
            .filter(|d| {
                !layout.read_probe(
                    &mut probes,
                    d.start().line,
                    d.is_error(),
                    d.lsp.severity == Some(DiagnosticSeverity::INFORMATION),
                    &d.lsp.message,
                )
            })
            .collect();
        // A positionless "unsolved goals" (after a parse error in the proof) is the theorem's.
        let in_header = |d: &LeanDiagnostic| {
            d.start().line < theorem_line && !d.is_positionless_unsolved_goals()
        };
        let header_errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.is_error() && in_header(d))
            .map(|d| d.lsp.message.clone())
            .collect();
        if !header_errors.is_empty() {
            return Err(LeanError::Header(header_errors.join("\n")));
        }
        let theorem: Vec<LeanDiagnostic> =
            diagnostics.into_iter().filter(|d| !in_header(d)).collect();
        let report = ProofReport::of(&theorem, layout.position(layout.by_end));
        let plain = if goals_at_end && report.has_unsolved && self.options.plain_goal {
            let end = layout.position(layout.proof_end);
            server.goals_at(&path, end.line, end.character)?
        } else {
            None
        };
        Ok(Checked {
            report,
            plain,
            theorem,
            probes,
        })
    }
}

/// A theorem's diagnostics, summarized, and the goals `plainGoal` gave at the end of its proof.
struct Checked {
    report: ProofReport,
    plain: Option<Vec<String>>,
    theorem: Vec<LeanDiagnostic>,
    /// What the `#print axioms` probes answered, when the text had them.
    probes: ProbeAnswers,
}

impl Checked {
    /// The goals that remain: plainGoal's list when it says the same as Lean's "unsolved
    /// goals" errors (which decide), else those errors' goals. They can differ when the last
    /// tactic sits in a nested block (`·`, `case`), where plainGoal shows the block's goals.
    fn goals(&self) -> Vec<String> {
        match &self.plain {
            Some(plain) if plain.join("\n\n") == self.report.unsolved.join("\n\n") => plain.clone(),
            plain => {
                tracing::debug!(target: "lean_server", ?plain, unsolved = ?self.report.unsolved,
                    "plainGoal differs from the unsolved-goals errors; using the errors");
                self.report.unsolved.clone()
            }
        }
    }
}

/// The module-header lines of a header (`module`, `prelude`, `import ...`): what Lean's worker
/// for a document is bound to. Lean restarts the worker itself when they change, so this only
/// decides which document is reused, never what is checked.
fn import_block(header: &str) -> String {
    let mut block = String::new();
    for line in header.lines() {
        let t = line.trim();
        let first = t.split_whitespace().next().unwrap_or("");
        if matches!(first, "prelude" | "import" | "module") || t.starts_with("public import") {
            block.push_str(t);
            block.push('\n');
        }
    }
    block
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProofBackend for ServerBackend {
    fn start(&self, header: &str, statement: &str) -> Result<ProofState, LeanError> {
        let layout = TheoremText::new(header, statement, &[]);
        let checked = self.check(header, &layout, true, None)?;
        if !checked.report.errors.is_empty() {
            return Err(LeanError::Statement(checked.report.errors.join("\n")));
        }
        if !checked.report.has_unsolved {
            return Err(LeanError::Statement(
                "Lean reported no goal for this statement; give a `theorem`/`example` with a type"
                    .into(),
            ));
        }
        Ok(ProofState {
            header: Arc::from(header),
            statement: Arc::from(statement),
            steps: Vec::new(),
            goals: checked.goals(),
            handle: None,
        })
    }

    fn apply(&self, state: &ProofState, tactic: &str) -> Result<Outcome, LeanError> {
        let mut steps = state.steps.clone();
        steps.push(tactic.to_string());
        let layout = TheoremText::new(&state.header, &state.statement, &steps);
        let checked = self.check(&state.header, &layout, true, None)?;
        if !checked.report.errors.is_empty() {
            return Ok(Outcome::Failed(checked.report.errors.join("\n")));
        }
        if checked.report.uses_sorry || mentions_sorry(tactic) {
            return Ok(Outcome::Failed(
                "the tactic closes a goal with `sorry`, which proves nothing".into(),
            ));
        }
        let goals = checked.goals();
        let next = ProofState {
            header: state.header.clone(),
            statement: state.statement.clone(),
            steps,
            goals,
            handle: None,
        };
        Ok(if checked.report.has_unsolved {
            Outcome::Open(next)
        } else {
            Outcome::Proved(next)
        })
    }

    fn verify(&self, header: &str, statement: &str, proof: &str) -> Result<Verdict, LeanError> {
        let stamp = self.cmd.library_stamp(header);
        let imports = self
            .imports
            .answers(header, &self.options.policy, &stamp, |text| {
                self.elaborate(text)
            })?;
        let layout = TheoremText::for_verify(header, statement, proof, &imports);
        let checked = self.check(header, &layout, false, Some(&stamp))?;
        same_build(&self.cmd, header, &stamp, statement)?;
        let verdict = message::verdict(&checked.theorem, false);
        Ok(layout.judge(verdict, &checked.probes, &self.options.policy))
    }

    fn elaborate(&self, text: &str) -> Result<Vec<Diagnostic>, LeanError> {
        let mut slot = self.slot(&import_block(text));
        let slot = &mut *slot;
        let server = self.live_server(slot)?;
        let n = DOC_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = self
            .scratch_dir()
            .join(format!("ProofstepCheck{}_{n}.lean", std::process::id()));
        server.elaborate_once(&path, text)
    }

    fn policy(&self) -> &AxiomPolicy {
        &self.options.policy
    }

    fn name(&self) -> &'static str {
        "server"
    }
}

#[cfg(test)]
mod tests {
    use super::import_block;

    #[test]
    fn import_block_keeps_only_module_header_lines() {
        let a = "prelude\nimport Mini\n\ntheorem one : True := by\n  exact True.intro\n";
        let b = "prelude\nimport Mini\n";
        assert_eq!(import_block(a), "prelude\nimport Mini\n");
        assert_eq!(import_block(a), import_block(b));
        assert_ne!(import_block("import Mathlib\nopen Nat\n"), import_block(b));
    }
}
