//! Whether a text declares a guarded name — one of `keywords::RESERVED_NAMES` (a `Nat` operation
//! the kernel computes natively, a constant literals unfold to, a default allowed axiom) or an
//! axiom the user allows (`--allow-axiom`: only the imports' axiom of that name is meant) —
//! asked of Lean itself: each name is probed with `#print axioms _root_.NAME` right after the
//! module header (what the imports declare) and again at the end of the text. A name the imports
//! lack that exists at the end was declared by the text, however it was declared — an `axiom`,
//! a constructor (`inductive Lean | reduceBool`), a structure field, a name a macro builds —
//! where the lexical check (`SourceFile::declares_one_of`) sees only names written after a
//! declaration keyword. A name the imports have cannot be declared again. Every check that
//! certifies a proof (`check`, the final check of a search, the editor) asks these questions.
//! `check` asks both in its one run; the final checks and the editor ask the first once per
//! module header, in a text of its own (`imports_text`, kept by `ImportsCache`), and then ask at
//! the end only about the names the imports lack (none or nearly none for a text importing
//! Lean's `Init`), so a check of one theorem pays for a few commands at most.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::axioms::{self, print_axioms_command, AxiomPolicy, AxiomsAnswer};
use crate::error::LeanError;
use crate::message::{Diagnostic, Severity};
use crate::source::keywords::RESERVED_NAMES;
use crate::source::module_header_end;

/// Where a block of probes stands: right after the module header, or at the end of the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// After the imports: which guarded names they declare.
    Start,
    /// At the end: which guarded names exist after everything the text declares.
    End,
}

/// The names a text checked under `policy` may not declare: `RESERVED_NAMES`, then every other
/// axiom the policy allows, in order.
pub fn guarded_names(policy: &AxiomPolicy) -> Vec<String> {
    let mut names: Vec<String> = RESERVED_NAMES.iter().map(|n| n.to_string()).collect();
    for axiom in policy.allowed() {
        if !names.iter().any(|n| n == axiom) && axioms::is_name(axiom) {
            names.push(axiom.to_string());
        }
    }
    names
}

/// The probes about `names`, one line each, in that order (line k asks about name k).
pub fn probe_block(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("{}\n", print_axioms_command(name)))
        .collect()
}

/// `text`'s module header followed by the probes about `names`, for a host that runs its
/// header apart from the probes: the text, and the line (from 0) of the block's first probe.
pub fn imports_text(text: &str, names: &[String]) -> (String, u32) {
    let header = &text[..module_header_end(text)];
    let mut out = header.to_string();
    if !out.is_empty() {
        out.push('\n');
    }
    let line = out.matches('\n').count() as u32;
    out.push_str(&probe_block(names));
    (out, line)
}

/// What the imports of each module header declare among the guarded names, asked once per
/// header (and list of names) and build of the imported modules (`library_stamp`: a library
/// rebuilt under a running process is asked again) through the host's own Lean and kept (only
/// when every probe was answered: a header that failed is asked again next time).
#[derive(Debug, Default)]
pub struct ImportsCache(Mutex<HashMap<(String, String), ReservedAnswers>>);

impl ImportsCache {
    /// The answers about the names guarded under `policy` (`guarded_names`) for `text`'s module
    /// header, whose imported modules are now as `stamp` (`LeanCommand::library_stamp`) says,
    /// from the cache or from `elaborate` (which runs a whole text and gives Lean's messages,
    /// lines from 1) run on `imports_text`. The host checks the text in an environment of
    /// imports loaded under the same stamp.
    pub fn answers(
        &self,
        text: &str,
        policy: &AxiomPolicy,
        stamp: &str,
        elaborate: impl FnOnce(&str) -> Result<Vec<Diagnostic>, LeanError>,
    ) -> Result<ReservedAnswers, LeanError> {
        let names = guarded_names(policy);
        let (imports, first) = imports_text(text, &names);
        let key = (imports, stamp.to_string());
        let lock = || self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(answers) = lock().get(&key) {
            return Ok(answers.clone());
        }
        let mut answers = ReservedAnswers::new(names);
        for d in elaborate(&key.0)? {
            if let Some(k) = d.pos.line.checked_sub(1 + first) {
                let information = d.severity == Severity::Information;
                answers.read(Side::Start, k as usize, d.is_error(), information, &d.data);
            }
        }
        if answers.start.iter().all(Option::is_some) {
            lock().insert(key, answers.clone());
        }
        Ok(answers)
    }
}

/// Ok when the modules `header` imports are still the build `stamp` names (taken before the
/// imports were asked about and the proof checked), else `LeanError::LibraryRebuilt`: a
/// rebuild during the check may have given the answers and the environment two builds.
pub fn same_build(
    cmd: &crate::LeanCommand,
    header: &str,
    stamp: &str,
    statement: &str,
) -> Result<(), LeanError> {
    if cmd.library_stamp(header) == stamp {
        return Ok(());
    }
    let name: String = statement.chars().take(80).collect();
    Err(LeanError::LibraryRebuilt(name))
}

/// What Lean answered to the two blocks of probes about a list of guarded names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReservedAnswers {
    names: Vec<String>,
    start: Vec<Option<AxiomsAnswer>>,
    end: Vec<Option<AxiomsAnswer>>,
}

impl ReservedAnswers {
    /// No answers yet about `names`.
    pub fn new(names: Vec<String>) -> Self {
        let n = names.len();
        ReservedAnswers {
            names,
            start: vec![None; n],
            end: vec![None; n],
        }
    }

    /// The names asked about, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Reads one message found on the probe line of name `k` in the `side` block; true when it
    /// was the probe's answer.
    pub fn read(
        &mut self,
        side: Side,
        k: usize,
        is_error: bool,
        is_information: bool,
        message: &str,
    ) -> bool {
        let Some(name) = self.names.get(k) else {
            return false;
        };
        let Some(answer) = axioms::read_answer(is_error, is_information, message, name) else {
            return false;
        };
        let answers = match side {
            Side::Start => &mut self.start,
            Side::End => &mut self.end,
        };
        axioms::add_answer(&mut answers[k], answer);
        true
    }

    /// No answers yet about the names `imports` asked about, with its answers after the module
    /// header: for reading the end of a text whose imports were asked apart (`ImportsCache`).
    pub fn after(imports: &ReservedAnswers) -> Self {
        ReservedAnswers {
            start: imports.start.clone(),
            ..ReservedAnswers::new(imports.names.clone())
        }
    }

    /// The names (by index) the start block does not show the imports declaring: those the
    /// end of a text must be asked about.
    pub fn lacking(&self) -> Vec<usize> {
        (0..self.names.len())
            .filter(|&k| !matches!(self.start[k], Some(AxiomsAnswer::DependsOn(_))))
            .collect()
    }

    /// The probes of the names `lacking` gives, one line each in that order: the end of a text
    /// whose imports were asked apart.
    pub fn end_block(&self) -> String {
        let lacking: Vec<String> = self
            .lacking()
            .into_iter()
            .map(|k| self.names[k].clone())
            .collect();
        probe_block(&lacking)
    }

    /// Why no proof of the text can be certified, if none can: Lean did not answer a probe
    /// (the text ends inside a comment or an unfinished command, or its header failed), or a
    /// guarded name the imports lack exists at the end of the text. Nothing asked: nothing
    /// can be told either.
    pub fn why_untrusted(&self) -> Option<String> {
        if self.names.is_empty() {
            return Some(
                "Lean was not asked which names the kernel or the allowed axioms stand for the imports declare, so what the text declares cannot be told".into(),
            );
        }
        for (k, name) in self.names.iter().enumerate() {
            // Only a plain answer about the name itself says the imports declare it.
            match &self.start[k] {
                Some(AxiomsAnswer::DependsOn(_)) => continue,
                None => {
                    return Some(format!(
                        "Lean did not answer whether the imports declare `{name}` (the header may have failed), so whether this text declares a name the kernel or the allowed axioms stand for cannot be told; fix the header"
                    ))
                }
                Some(_) => {}
            }
            match &self.end[k] {
                Some(AxiomsAnswer::Unknown) => {}
                None => {
                    return Some(format!(
                        "Lean did not answer whether `{name}` exists at the end of the text (it may end inside a comment or an unfinished command), so whether the text declares a name the kernel or the allowed axioms stand for cannot be told; fix the end of the text"
                    ))
                }
                Some(_) => {
                    return Some(format!(
                        "this text declares `{name}` (a name Lean's kernel or the allowed axioms stand for, which its imports lack: an allowed axiom counts only as the imports declare it), so no proof in it can be certified; rename what declares it"
                    ))
                }
            }
        }
        None
    }

    /// The answers of imports that declare every reserved name (any text importing Lean's
    /// `Init`), under the default policy: for tests of what comes after the probes.
    #[cfg(test)]
    pub(crate) fn imports_declare_all() -> Self {
        let mut all = ReservedAnswers::new(guarded_names(&AxiomPolicy::default()));
        all.start = vec![Some(AxiomsAnswer::DependsOn(Vec::new())); all.names.len()];
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_names() -> Vec<String> {
        guarded_names(&AxiomPolicy::default())
    }

    fn answered(
        start_unknown: &[usize],
        end_known: &[usize],
        unanswered_end: &[usize],
    ) -> ReservedAnswers {
        let mut a = ReservedAnswers::new(default_names());
        for (k, name) in default_names().iter().enumerate() {
            let start = if start_unknown.contains(&k) {
                a.read(
                    Side::Start,
                    k,
                    true,
                    false,
                    &format!("Unknown constant `_root_.{name}`"),
                )
            } else {
                a.read(
                    Side::Start,
                    k,
                    false,
                    true,
                    &format!("'{name}' does not depend on any axioms"),
                )
            };
            assert!(start);
            if unanswered_end.contains(&k) {
                continue;
            }
            let end = if end_known.contains(&k) {
                a.read(
                    Side::End,
                    k,
                    false,
                    true,
                    &format!("'{name}' depends on axioms: [propext]"),
                )
            } else {
                a.read(
                    Side::End,
                    k,
                    true,
                    false,
                    &format!("Unknown constant `_root_.{name}`"),
                )
            };
            assert!(end);
        }
        a
    }

    #[test]
    fn a_guarded_name_the_imports_lack_must_stay_unknown_to_the_end() {
        let k = RESERVED_NAMES
            .iter()
            .position(|n| *n == "Lean.reduceBool")
            .unwrap();
        assert_eq!(answered(&[k], &[], &[]).why_untrusted(), None);
        // Declared by the text (however: a constructor, a field, a macro).
        let why = answered(&[k], &[k], &[]).why_untrusted().expect("refused");
        assert!(why.contains("declares `Lean.reduceBool`"), "{why}");
        // Not answered at the end: cannot be told.
        let why = answered(&[k], &[], &[k]).why_untrusted().expect("refused");
        assert!(why.contains("did not answer"), "{why}");
        // A name the imports have exists at the end (the imports' own): nothing to say.
        let other = (k + 1) % RESERVED_NAMES.len();
        assert_eq!(answered(&[k], &[other], &[other]).why_untrusted(), None);
        // Nothing asked, or no answers at all: nothing can be told.
        assert!(ReservedAnswers::default().why_untrusted().is_some());
        assert!(ReservedAnswers::new(default_names())
            .why_untrusted()
            .is_some());
        assert_eq!(ReservedAnswers::imports_declare_all().why_untrusted(), None);
        // An answer about another name than asked does not say the imports have it.
        let mut odd = ReservedAnswers::imports_declare_all();
        odd.start[k] = Some(AxiomsAnswer::OtherName("Lean.reduceBool'".into()));
        assert!(odd.why_untrusted().is_some());
    }

    #[test]
    fn the_axioms_a_policy_allows_are_guarded_too() {
        assert_eq!(default_names().len(), RESERVED_NAMES.len());
        let names = guarded_names(&AxiomPolicy::allowing([
            "Lean.ofReduceBool",
            "propext",
            "no name",
        ]));
        assert_eq!(names.len(), RESERVED_NAMES.len() + 1);
        assert_eq!(names.last().map(String::as_str), Some("Lean.ofReduceBool"));
    }

    #[test]
    fn the_imports_text_is_the_header_then_the_block() {
        let names = default_names();
        let (text, line) = imports_text(
            "prelude\nimport Mini\ntheorem t : True := trivial\n",
            &names,
        );
        assert_eq!(line, 2);
        assert_eq!(
            text,
            format!("prelude\nimport Mini\n{}", probe_block(&names))
        );
        assert_eq!(probe_block(&names).lines().count(), names.len());
        let (bare, line) = imports_text("theorem t : True := trivial\n", &names);
        assert_eq!((bare, line), (probe_block(&names), 0));
        let all: Vec<usize> = (0..names.len()).collect();
        assert_eq!(
            ReservedAnswers::imports_declare_all().lacking(),
            Vec::<usize>::new()
        );
        assert_eq!(ReservedAnswers::new(names).lacking(), all);
    }

    /// A rebuild between the stamp and the end of a check refuses the check's verdict.
    #[test]
    fn a_rebuild_during_a_check_refuses_its_verdict() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("A.olean"), b"a").unwrap();
        let mut cmd = crate::LeanCommand::new("lean");
        cmd.libraries = vec![dir.path().to_path_buf()];
        let stamp = cmd.library_stamp("import A\n");
        assert!(same_build(&cmd, "import A\n", &stamp, "theorem t").is_ok());
        std::fs::write(dir.path().join("A.olean"), b"a, rebuilt").unwrap();
        let refused = same_build(&cmd, "import A\n", &stamp, "theorem t");
        assert!(
            matches!(refused, Err(LeanError::LibraryRebuilt(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn the_imports_are_asked_once_per_module_header() {
        let cache = ImportsCache::default();
        let policy = AxiomPolicy::default();
        let asked = std::cell::Cell::new(0);
        let answer = |text: &str| {
            asked.set(asked.get() + 1);
            let first = text.lines().position(|l| l.contains("#print")).unwrap() as u32;
            Ok(RESERVED_NAMES
                .iter()
                .enumerate()
                .map(|(k, name)| Diagnostic {
                    pos: crate::source::Pos::new(first + 1 + k as u32, 0),
                    end_pos: None,
                    severity: Severity::Information,
                    data: format!("'{name}' does not depend on any axioms"),
                    kind: None,
                    file_name: None,
                    caption: None,
                })
                .collect())
        };
        let header = "prelude\nimport Mini\nopen Nat\n";
        let a = cache.answers(header, &policy, "s1", answer).unwrap();
        assert_eq!(a.lacking(), Vec::<usize>::new());
        // The same module header with another context: asked no more.
        let b = cache
            .answers("prelude\nimport Mini\nnamespace X\n", &policy, "s1", answer)
            .unwrap();
        assert_eq!((a, asked.get()), (b, 1));
        // The library rebuilt since (another stamp): asked again.
        cache.answers(header, &policy, "s2", answer).unwrap();
        assert_eq!(asked.get(), 2);
        // Unanswered (the header failed): not kept.
        let failed = cache
            .answers("import Missing\n", &policy, "s1", |_| Ok(Vec::new()))
            .unwrap();
        assert!(failed.why_untrusted().is_some());
        cache
            .answers("import Missing\n", &policy, "s1", answer)
            .unwrap();
        assert_eq!(asked.get(), 3);
    }
}
