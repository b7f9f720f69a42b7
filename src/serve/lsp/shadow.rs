//! Checking a candidate step with Lean: the document is copied with the step inserted (a
//! shadow copy, never written to disk nor shown to the editor) and elaborated by a language
//! server of the proxy's own. An error that starts inside the step fails it; otherwise the goals
//! after it decide: none left, no error in the declaration, and a `#print axioms` probe after
//! it that finds only allowed axioms (no `sorryAx` reached through any lemma, no file-local
//! `axiom`), and no guarded name (kernel-special, or an allowed axiom's) declared by the
//! document (`lean::reserved`, asked at the end of the copy and, once per module header, in a
//! document of the imports alone), means the
//! step completes the proof.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lsp_types::{DiagnosticSeverity, Position};

use crate::lean::axioms::{
    self, example_declaration, example_name, print_axioms_command, AxiomPolicy,
};
use crate::lean::check::untrusted;
use crate::lean::lsp::diagnostic::LeanDiagnostic;
use crate::lean::lsp::server::{LeanServer, ServerOptions};
use crate::lean::lsp::text::{offset_of, position_at};
use crate::lean::reserved::{ImportsCache, ReservedAnswers, Side};
use crate::lean::source::{qualified, DeclKind, Pos, SourceFile};
use crate::lean::{LeanCommand, LeanError, Status, Verdict as LeanVerdict};
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
    policy: AxiomPolicy,
    index: usize,
    server: Option<LeanServer>,
    /// The shadow document open in `server`, if any, and the build of its imports when it was
    /// opened (`LeanCommand::library_stamp`).
    open: Option<(PathBuf, String)>,
    /// What each module header's imports declare among the guarded names.
    imports: ImportsCache,
}

impl ShadowChecker {
    /// A checker that runs `cmd --server` when first needed (killed and restarted when its
    /// private memory passes `memory_limit_mb`); `index` keeps the shadow file names of several
    /// checkers apart. A step completes a proof only when the proof rests on the axioms
    /// `policy` allows.
    pub fn new(
        cmd: LeanCommand,
        timeout: Duration,
        memory_limit_mb: Option<u64>,
        index: usize,
        policy: AxiomPolicy,
    ) -> Self {
        ShadowChecker {
            cmd,
            policy,
            options: ServerOptions {
                start_timeout: Duration::from_secs(60),
                open_timeout: Duration::from_secs(600),
                timeout,
                memory_limit_mb,
            },
            index,
            server: None,
            open: None,
            imports: ImportsCache::default(),
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

    /// Which guarded names the imports of `text` declare: asked once per module header, in a
    /// document of the header alone beside `document` (closed again at once).
    fn reserved_in_imports(
        &mut self,
        document: &Path,
        text: &str,
        stamp: &str,
    ) -> Result<ReservedAnswers, LeanError> {
        let path = self.shadow_path(document).with_extension("imports.lean");
        let imports = std::mem::take(&mut self.imports);
        let policy = self.policy.clone();
        let answers = imports.answers(text, &policy, stamp, |header| {
            let server = self.server()?;
            let diagnostics = server.change(&path, header);
            server.close(&path)?;
            Ok(diagnostics?
                .iter()
                .map(|d| d.to_lean_json(header))
                .collect())
        });
        self.imports = imports;
        answers
    }

    /// Checks one candidate inserted into `shadow` (see `cursor::shadow`); `declaration_line`
    /// is where the declaration holding it starts.
    pub fn check(
        &mut self,
        document: &Path,
        shadow: &Shadow,
        declaration_line: u32,
    ) -> Result<Verdict, LeanError> {
        let header = &shadow.text[..crate::lean::source::module_header_end(&shadow.text)];
        let stamp = self.cmd.library_stamp(header);
        let imports = self.reserved_in_imports(document, &shadow.text, &stamp)?;
        let path = self.shadow_path(document);
        // Another document, or its imports rebuilt since it was opened (its Lean worker holds
        // them as they were): closed, so the check loads the imports the answers are about.
        let previous = self.open.take();
        if let Some((old, _)) = previous.filter(|(p, s)| *p != path || *s != stamp) {
            self.server()?.close(&old)?;
        }
        let policy = self.policy.clone();
        let server = self.server()?;
        let result = check_in(server, &path, shadow, declaration_line, &policy, &imports);
        self.open = match &result {
            Ok(_) => Some((path, stamp)),
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
    policy: &AxiomPolicy,
    imports: &ReservedAnswers,
) -> Result<Verdict, LeanError> {
    let probe = AxiomsProbe::after(&shadow.text, shadow.start, imports);
    let (start, end) = (probe.moved(shadow.start), probe.moved(shadow.end));
    let diagnostics = server.change(path, &probe.text)?;
    if let Some(failure) = diagnostics
        .iter()
        .find(|d| (d.is_error() || d.is_sorry_warning()) && starts_within(d, start, end))
    {
        return Ok(Verdict::Fails(failure.lsp.message.clone()));
    }
    let goals = server.goals_at(path, end.line, end.character)?;
    let declaration_clean = !diagnostics.iter().any(|d| {
        (d.is_error() || d.is_sorry_warning())
            && d.start().line >= declaration_line
            && d.start().line < probe.first_line
    });
    Ok(match goals {
        Some(goals) if goals.is_empty() && declaration_clean => {
            if probe.confirms(&diagnostics, policy, imports) {
                Verdict::Completes
            } else {
                Verdict::Valid(Vec::new())
            }
        }
        Some(goals) => Verdict::Valid(goals),
        None => Verdict::Valid(Vec::new()),
    })
}

/// A shadow text followed by what asks Lean which axioms the declaration holding the candidate
/// rests on: `#print axioms` on it; an `example` (which has no name) is renamed where it
/// stands, to a definition of a name of its own.
struct AxiomsProbe {
    text: String,
    /// The first line (from 0) after the shadow text proper.
    first_line: u32,
    /// Where an `example` holding the candidate was renamed in place (its keyword), and how
    /// many characters longer its line became.
    renamed: Option<(Position, u32)>,
    /// The line of the `#print axioms` command and the name it asks about, when the
    /// declaration was found.
    probe_line: Option<(u32, String)>,
    /// The first line of the guarded-name probes at the end, and the names (by index) they
    /// ask about: those the imports lack.
    reserved_line: u32,
    reserved_names: Vec<usize>,
    /// Why the probe's answer cannot be trusted here, if it cannot.
    distrust: Option<String>,
    /// The shadow text as split into commands, for where Lean's errors fall.
    source: SourceFile,
    /// Where the declaration holding the candidate starts.
    declaration: Option<Pos>,
}

impl AxiomsProbe {
    fn after(shadow: &str, candidate: Position, imports: &ReservedAnswers) -> AxiomsProbe {
        let mut text = shadow.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let first_line = position_at(&text, text.len()).line;
        let at = offset_of(shadow, candidate).unwrap_or(shadow.len());
        let source = SourceFile::parse(shadow);
        // The declaration the candidate is inside (not one before a `def` holding it).
        let index = source
            .theorems
            .iter()
            .rposition(|t| t.start_byte <= at)
            .filter(|&i| at <= source.theorems[i].end_byte);
        let declaration = index.map(|i| &source.theorems[i]);
        // An `example` is checked where it stands, renamed (as `check` does): a copy elsewhere
        // would be elaborated in another context.
        let mut renamed = None;
        let name = declaration.and_then(|t| match &t.full_name {
            Some(name) => Some(name.clone()),
            None if t.kind == DeclKind::Example => {
                let declared = example_declaration("");
                text.replace_range(t.keyword_byte..t.keyword_byte + "example".len(), &declared);
                let longer = (declared.len() - "example".len()) as u32;
                renamed = Some((position_at(shadow, t.keyword_byte), longer));
                Some(qualified(&t.namespace, &example_name("")))
            }
            None => None,
        });
        let probe_line = name.map(|name| {
            text.push('\n');
            let line = position_at(&text, text.len()).line;
            text.push_str(&print_axioms_command(&name));
            text.push('\n');
            (line, name)
        });
        let reserved_line = position_at(&text, text.len()).line;
        let reserved_names = imports.lacking();
        text.push_str(&imports.end_block());
        // The same doubts as `check` and the final check of a search: a text that runs code
        // or declares a guarded name, and a declaration whose full name may not be Lean's
        // (`with_weak_namespace`, `namespace N in`, a name declared twice).
        let distrust = untrusted(&text)
            .or_else(|| source.declares_one_of(imports.names()))
            .or_else(|| index.and_then(|i| source.name_doubt(i)));
        let declaration = index.map(|i| source.theorems[i].keyword);
        AxiomsProbe {
            distrust,
            text,
            first_line,
            renamed,
            probe_line,
            reserved_line,
            reserved_names,
            source,
            declaration,
        }
    }

    /// Where a position of the shadow text is in the probe text (after an `example` renamed on
    /// its line, further right).
    fn moved(&self, at: Position) -> Position {
        match self.renamed {
            Some((keyword, longer))
                if at.line == keyword.line && at.character > keyword.character =>
            {
                Position::new(at.line, at.character + longer)
            }
            _ => at,
        }
    }

    /// Whether Lean's errors before the declaration leave its reading of the text in doubt,
    /// by `check`'s rules (`ReadOn::error_reads_on_otherwise`: an error outside the theorems,
    /// a parse error in a proof Lean may recover from otherwise, an error inside what is read
    /// here as a string or a comment, or at a command keyword): Lean may then be checking
    /// another declaration than the one read here.
    fn read_otherwise(&self, diagnostics: &[LeanDiagnostic]) -> bool {
        let Some(declaration) = self.declaration else {
            return true;
        };
        let read_on = self.source.read_on();
        diagnostics
            .iter()
            .filter(|d| d.is_error() && d.start().line < self.first_line)
            .map(|d| d.to_lean_json(&self.text))
            .filter(|d| d.pos < declaration)
            .filter(|d| !d.is_positionless_unsolved_goals())
            .any(|d| read_on.error_reads_on_otherwise(d.pos, d.may_be_parse_error()))
    }

    /// Whether the probe's answer among `diagnostics` shows a finished proof: only allowed
    /// axioms, no guarded name the imports lack declared by the text (`imports`: what they
    /// declare), and nothing that leaves Lean's reading of the text in doubt.
    fn confirms(
        &self,
        diagnostics: &[LeanDiagnostic],
        policy: &AxiomPolicy,
        imports: &ReservedAnswers,
    ) -> bool {
        let Some((line, name)) = &self.probe_line else {
            return false;
        };
        let line = *line;
        if self.distrust.is_some() || self.read_otherwise(diagnostics) {
            return false;
        }
        let mut reserved_answers = ReservedAnswers::after(imports);
        for d in diagnostics {
            let name = d
                .start()
                .line
                .checked_sub(self.reserved_line)
                .and_then(|j| self.reserved_names.get(j as usize));
            if let Some(&k) = name {
                let information = d.lsp.severity == Some(DiagnosticSeverity::INFORMATION);
                reserved_answers.read(Side::End, k, d.is_error(), information, &d.lsp.message);
            }
        }
        if reserved_answers.why_untrusted().is_some() {
            return false;
        }
        let mut answer = None;
        for d in diagnostics.iter().filter(|d| d.start().line == line) {
            if let Some(read) = axioms::read_answer(
                d.is_error(),
                d.lsp.severity == Some(DiagnosticSeverity::INFORMATION),
                &d.lsp.message,
                name,
            ) {
                axioms::add_answer(&mut answer, read);
            }
        }
        let verdict = axioms::judge(
            LeanVerdict::of(Status::Proved),
            answer.as_ref(),
            policy,
            "the declaration",
        );
        verdict.is_proved()
    }
}

/// Whether the diagnostic starts inside the candidate (its end included: Lean puts "expected
/// term" errors just after the text).
fn starts_within(d: &LeanDiagnostic, start: Position, end: Position) -> bool {
    let at = d.start();
    let key = |p: Position| (p.line, p.character);
    key(at) >= key(start) && key(at) <= key(end)
}
