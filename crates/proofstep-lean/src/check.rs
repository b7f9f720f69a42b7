//! Checking every theorem of a Lean file in one Lean run, with any backend: the file goes to
//! Lean whole (so a theorem sees the earlier ones exactly as written, failed proofs included),
//! followed by `#print axioms` for each theorem; each theorem's verdict comes from the
//! diagnostics inside its span, corrected by what the probe says it rests on. A theorem that
//! uses an earlier lemma whose proof is `sorry` or failed, or a file's own `axiom`, is therefore
//! never proved. Backends differ only in how they run the text (`ProofBackend::elaborate`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::axioms::{self, example_declaration, example_name, AxiomPolicy, AxiomsAnswer};
use crate::backend::ProofBackend;
use crate::error::LeanError;
use crate::message::{self, Diagnostic, Severity};
use crate::reserved::{self, guarded_names, ReservedAnswers, Side};
use crate::source::keywords::{
    uncertifiable, CODE_ATTRIBUTES, CODE_RUNNERS, MESSAGE_HIDERS, SCOPES, SYNTAX_COMMANDS,
};
use crate::source::{
    command_tokens, is_ident_rest, module_header_end, qualified, tokens, DeclKind, Pos, Region,
    SourceFile,
};
use crate::verdict::{Status, Verdict};

/// The verdict on each theorem of a file, from one Lean run.
#[derive(Clone, Debug)]
pub struct FileVerdicts {
    /// One verdict per theorem of the `SourceFile`, in order.
    pub verdicts: Vec<Verdict>,
    /// Errors in the header (before the first theorem); when there are any, every theorem is
    /// an error too.
    pub header_errors: Vec<String>,
}

/// The text Lean checks for a file: the file up to `#exit`, each `example` renamed to a
/// definition of its own (so it can be asked about), and right after each theorem, in its
/// scope, a `#print axioms` of its name as written (`Theorem::probe_name`): Lean resolves the
/// name in the namespace the theorem is really in and prints what it found, which must be the
/// full name read here. Theorems inside a `mutual` block, where no command may stand, are
/// asked about by full name at the end. Right after the module header and at the very end,
/// the reserved names are asked about (`reserved`): the text must declare none.
#[derive(Clone, Debug)]
pub struct FileProbe {
    /// The text to elaborate.
    pub text: String,
    /// The line breaks in `text` so far (the next line's number, less one).
    breaks: u32,
    /// The file as written.
    original: Arc<str>,
    /// Where each part of `text` comes from: (byte in `text`, byte in the file, copied). A
    /// copied part maps byte for byte; an inserted one (a probe, a renamed keyword) maps to
    /// the place it was inserted at.
    parts: Vec<(usize, usize, bool)>,
    /// Probe line → theorem index.
    probes: HashMap<u32, usize>,
    /// Line of the probe just before a theorem, asking whether its full name is free there →
    /// theorem index. A name taken before its theorem (by an import, or by a declaration this
    /// reading does not see) means Lean cannot be declaring the theorem under it.
    fresh: HashMap<u32, usize>,
    /// The name each theorem is checked under.
    names: Vec<String>,
    /// The names the text may not declare (`reserved::guarded_names`), and the first line of
    /// their probes after the module header and at the end.
    guarded: Vec<String>,
    reserved_lines: [u32; 2],
    /// Why the probe cannot be trusted in this file, if it cannot.
    distrust: Option<String>,
    /// Per theorem, why its full name may not be Lean's (`SourceFile::name_doubt`): the probe
    /// could then answer about another declaration.
    doubts: Vec<Option<String>>,
}

impl FileProbe {
    /// Prepares `source` for one whole-file check under `policy`.
    pub fn of(source: &SourceFile, policy: &AxiomPolicy) -> FileProbe {
        let file = &source.text[..source.lean_end];
        let guarded = guarded_names(policy);
        let mut probe = FileProbe {
            text: String::with_capacity(file.len() + 64 * source.theorems.len()),
            breaks: 0,
            original: source.text.clone(),
            parts: Vec::new(),
            probes: HashMap::new(),
            fresh: HashMap::new(),
            names: Vec::with_capacity(source.theorems.len()),
            distrust: untrusted(file).or_else(|| source.declares_one_of(&guarded)),
            guarded,
            reserved_lines: [0; 2],
            doubts: source.name_doubts(),
        };
        let mut at = module_header_end(file);
        probe.copy(file, 0, at);
        if at > 0 {
            probe.insert("\n", at);
        }
        let block = reserved::probe_block(&probe.guarded);
        probe.reserved_lines[0] = probe.command_line(&block, at);
        let mut at_end = Vec::new();
        for (i, theorem) in source.theorems.iter().enumerate() {
            let written = match (&theorem.full_name, theorem.kind) {
                (Some(name), _) => {
                    probe.names.push(name.clone());
                    theorem.probe_name()
                }
                (None, DeclKind::Example) => {
                    let tag = format!("_L{}_C{}", theorem.keyword.line, theorem.keyword.column);
                    probe.copy(file, at, theorem.keyword_byte);
                    probe.insert(&example_declaration(&tag), theorem.keyword_byte);
                    at = theorem.keyword_byte + "example".len();
                    probe
                        .names
                        .push(qualified(&theorem.namespace, &example_name(&tag)));
                    Some(example_name(&tag))
                }
                (None, _) => {
                    probe.names.push(String::new());
                    None
                }
            };
            let Some(written) = written else { continue };
            if theorem.in_mutual || theorem.end_byte > file.len() {
                // No command may stand inside a `mutual` block: the name must be free before
                // the block, and the theorem is asked about at the end.
                if let Some(block) = source.mutual_start(i).filter(|&b| at <= b) {
                    at = probe.free_name_probe(file, at, block, i);
                }
                at_end.push(i);
                continue;
            }
            if theorem.kind != DeclKind::Example && at <= theorem.start_byte {
                at = probe.free_name_probe(file, at, theorem.start_byte, i);
            }
            probe.copy(file, at, theorem.end_byte);
            at = theorem.end_byte;
            probe.insert("\n", at);
            let line = probe.command_line(&axioms::print_axioms_here(&written), at);
            probe.probes.insert(line, i);
            probe.insert("\n", at);
        }
        probe.copy(file, at, file.len());
        if !probe.text.ends_with('\n') {
            probe.insert("\n", file.len());
        }
        for i in at_end {
            let command = axioms::print_axioms_command(&probe.names[i]);
            let line = probe.command_line(&command, file.len());
            probe.probes.insert(line, i);
            probe.insert("\n", file.len());
        }
        probe.reserved_lines[1] = probe.command_line(&block, file.len());
        probe
    }

    /// Which reserved-name probe is on `line`, if one is: its block and its index.
    fn reserved_probe(&self, line: u32) -> Option<(Side, usize)> {
        [Side::Start, Side::End]
            .into_iter()
            .zip(self.reserved_lines)
            .find_map(|(side, first)| {
                let k = line.checked_sub(first)? as usize;
                (k < self.guarded.len()).then_some((side, k))
            })
    }

    /// Copies `file[from..before]`, then asks at `before` whether theorem `i`'s full name is
    /// still free there (`#print axioms _root_.NAME` must answer "unknown constant"); returns
    /// where copying goes on.
    fn free_name_probe(&mut self, file: &str, from: usize, before: usize, i: usize) -> usize {
        self.copy(file, from, before);
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.insert("\n", before);
        }
        let command = axioms::print_axioms_command(&self.names[i]);
        let line = self.command_line(&command, before);
        self.fresh.insert(line, i);
        self.insert("\n", before);
        before
    }

    /// Appends `file[from..to]`, copied.
    fn copy(&mut self, file: &str, from: usize, to: usize) {
        if from < to {
            self.parts.push((self.text.len(), from, true));
            self.push(&file[from..to]);
        }
    }

    /// Appends `text`, inserted at byte `at` of the file.
    fn insert(&mut self, text: &str, at: usize) {
        self.parts.push((self.text.len(), at, false));
        self.push(text);
    }

    /// Appends `text` to the probe text, counting its line breaks.
    fn push(&mut self, text: &str) {
        self.breaks += text.matches('\n').count() as u32;
        self.text.push_str(text);
    }

    /// Inserts the probe `command` at byte `at` of the file; returns its line (from 1), by which
    /// Lean's answer is found.
    fn command_line(&mut self, command: &str, at: usize) -> u32 {
        let line = self.breaks + 1;
        self.insert(command, at);
        line
    }

    /// The byte of the probe text at `pos`, and the part of `parts` it lies in.
    fn part_at(&self, pos: Pos) -> (usize, Option<(usize, usize, bool)>) {
        let byte = pos.offset_in(&self.text).unwrap_or(self.text.len());
        let k = self.parts.partition_point(|p| p.0 <= byte);
        (byte, k.checked_sub(1).map(|k| self.parts[k]))
    }

    /// Whether `pos` of the probe text lies in an inserted part (a probe's line).
    fn inserted(&self, pos: Pos) -> bool {
        self.part_at(pos).1.is_some_and(|p| !p.2)
    }

    /// The byte of the file as written at a position in the probe text.
    fn original_byte(&self, pos: Pos) -> usize {
        let at = match self.part_at(pos) {
            (byte, Some((probe, file, true))) => file + (byte - probe),
            (_, Some((_, file, false))) => file,
            (_, None) => 0,
        };
        at.min(self.original.len())
    }

    /// What Lean would have met instead of a probe at `pos`: the file's next token there, as
    /// its parse errors name it.
    fn met_instead(&self, pos: Pos) -> String {
        let at = self.original_byte(pos);
        match tokens(&self.original[at..]).first() {
            Some(token) => format!("unexpected token '{token}'"),
            None => "unexpected end of input".to_string(),
        }
    }

    /// The position in the file as written of a position in the probe text.
    fn original(&self, pos: Pos) -> Pos {
        let at = self.original_byte(pos);
        let before = &self.original[..at];
        let line = before.matches('\n').count() as u32 + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos::new(line, before[start..].chars().count() as u32)
    }
}

/// Why no proof in `text` can be certified, if none can: it turns off the kernel's check
/// (`debug.skipKernelTC`) or runs code of its own (`#eval`, `run_cmd`, `elab`, ...), which can
/// add declarations the kernel never saw; or it can change what `#print axioms` answers
/// (`redefines_probe`). The first two are looked for in the raw text, comments and strings
/// included: a lexer that reads a string otherwise than Lean must not hide them.
pub fn untrusted(text: &str) -> Option<String> {
    let found = if text.contains("skipKernelTC") {
        Some((
            "debug.skipKernelTC",
            "turns off the kernel's check of the proof",
        ))
    } else {
        raw_code_runner(text)
            .and_then(|t| uncertifiable(t).map(|why| (t, why)))
            .or_else(|| {
                code_attribute(text).map(|t| {
                    (
                        t,
                        "makes code of the text's own run inside Lean, where it can add declarations without the kernel's check",
                    )
                })
            })
    };
    if let Some((word, why)) = found {
        return Some(format!(
            "this text uses `{word}`, which {why}, so no proof in it can be certified; remove it \
             (or check the theorems in a file without it)"
        ));
    }
    redefines_probe(text)
}

/// The first code runner (`CODE_RUNNERS`) or message hider (`MESSAGE_HIDERS`) written anywhere in `text`, comments and strings
/// included, glued to what comes before it or not (Lean reads `2run_cmd` as `2` then
/// `run_cmd`): only the character after it must end the word.
fn raw_code_runner(text: &str) -> Option<&'static str> {
    CODE_RUNNERS
        .iter()
        .chain(MESSAGE_HIDERS)
        .copied()
        .find(|word| {
            // Lean's token table reads `#eval` out of `#evalt` (`#eval t`): a `#` command
            // needs no boundary after it.
            text.match_indices(word).any(|(at, _)| {
                word.starts_with('#')
                    || !text[at + word.len()..]
                        .chars()
                        .next()
                        .is_some_and(is_ident_rest)
            })
        })
}

/// The first attribute of `CODE_ATTRIBUTES` (or `builtin_...`) given in `text`, in
/// `@[...]` or `attribute [...]`: `@[tactic exact] def evil ...` makes Lean run the text's own
/// code for every later `exact`.
fn code_attribute(text: &str) -> Option<&'static str> {
    let words = tokens(text);
    let mut depth = 0usize;
    for (i, word) in words.iter().enumerate() {
        let opens = *word == "@[" || (*word == "[" && i > 0 && words[i - 1] == "attribute");
        if opens || (depth > 0 && *word == "[") {
            depth += 1;
        } else if depth > 0 && word.starts_with(']') {
            depth -= 1;
        } else if depth > 0 {
            let bare: String = word.chars().filter(|&c| c != '«' && c != '»').collect();
            let bare = bare.rsplit('.').next().unwrap_or_default();
            if bare.starts_with("builtin_") {
                return Some("builtin_ attributes");
            }
            if let Some(found) = CODE_ATTRIBUTES.iter().find(|a| **a == bare) {
                return Some(found);
            }
        }
    }
    None
}

/// Why `#print axioms` cannot be trusted in `text`, if it cannot: a command names the
/// `printAxioms` parser (an attribute can attach a macro or elaborator to it), or defines
/// syntax, a macro or an elaborator mentioning `#print` or `axioms` — either could answer the
/// probe itself — or `set_option` or a `pp.` option, which could take away the options the
/// probe runs under (`axioms::PROBE_OPTIONS`). Modules the text imports are trusted not to.
pub fn redefines_probe(text: &str) -> Option<String> {
    let suspicious = |keyword: &str, token: &str| {
        let last = token.rsplit('.').next().unwrap_or(token);
        last == "printAxioms"
            || ((SYNTAX_COMMANDS.contains(&keyword) || SCOPES.contains(&keyword))
                && (token.starts_with("#print")
                    || token == "axioms"
                    || token == "set_option"
                    || token.starts_with("pp.")
                    || (token.starts_with('"')
                        && (token.contains("#print")
                            || token.contains("axioms")
                            || token.contains("set_option")))))
    };
    command_tokens(text)
        .into_iter()
        .find(|(keyword, tokens)| tokens.iter().any(|t| suspicious(keyword, t)))
        .map(|(keyword, _)| {
            format!(
                "a `{keyword}` command of this text can change what `#print axioms` answers, so the axioms a theorem rests on cannot be checked here"
            )
        })
}

/// Checks every theorem of `source` with one run of `backend` (see the module documentation),
/// accepting the axioms the backend's policy allows.
pub fn check_file(
    backend: &dyn ProofBackend,
    source: &SourceFile,
) -> Result<FileVerdicts, LeanError> {
    check_with(source, backend.policy(), |text| backend.elaborate(text))
}

/// `check_file` with Lean run by `elaborate` (the diagnostics of one whole text, as
/// `ProofBackend::elaborate` gives them): for a caller holding a Lean of its own, such as
/// extraction's language server.
pub fn check_with(
    source: &SourceFile,
    policy: &AxiomPolicy,
    elaborate: impl FnOnce(&str) -> Result<Vec<Diagnostic>, LeanError>,
) -> Result<FileVerdicts, LeanError> {
    let probe = FileProbe::of(source, policy);
    let diagnostics = elaborate(&probe.text)?;
    Ok(classify(source, &probe, &diagnostics, policy))
}

/// Sorts the diagnostics of one run of `probe.text` by theorem and gives each its verdict.
pub fn classify(
    source: &SourceFile,
    probe: &FileProbe,
    diagnostics: &[Diagnostic],
    policy: &AxiomPolicy,
) -> FileVerdicts {
    let n = source.theorems.len();
    let mut own: Vec<Vec<Diagnostic>> = vec![Vec::new(); n];
    let mut answers: Vec<Option<AxiomsAnswer>> = vec![None; n];
    let mut header_errors = Vec::new();
    // A parse error left open at the end of a theorem meets the `#print` after it: say what
    // Lean would have met in the file as written.
    let spills = |d: &Diagnostic| probe.inserted(d.pos);
    let mut kept: Vec<Diagnostic> = Vec::new();
    let mut taken = vec![false; n];
    let mut reserved_answers = ReservedAnswers::new(probe.guarded.clone());
    let answer_of = |d: &Diagnostic, i: usize| {
        axioms::read_answer(
            d.is_error(),
            d.severity == Severity::Information,
            &d.data,
            &probe.names[i],
        )
    };
    for d in diagnostics {
        if let Some((side, k)) = probe.reserved_probe(d.pos.line) {
            let information = d.severity == Severity::Information;
            if reserved_answers.read(side, k, d.is_error(), information, &d.data) {
                continue;
            }
        }
        if let Some(&i) = probe.fresh.get(&d.pos.line) {
            match answer_of(d, i) {
                Some(AxiomsAnswer::Unknown) => continue,
                Some(_) => {
                    taken[i] = true;
                    continue;
                }
                None => {}
            }
        }
        if let Some(&i) = probe.probes.get(&d.pos.line) {
            if let Some(answer) = answer_of(d, i) {
                axioms::add_answer(&mut answers[i], answer);
                continue;
            }
        }
        let mut d = d.clone();
        if spills(&d) {
            let instead = probe.met_instead(d.pos);
            d.data = d
                .data
                .replacen("unexpected token 'set_option'", &instead, 1);
        }
        d.pos = probe.original(d.pos);
        d.end_pos = d.end_pos.map(|e| probe.original(e));
        kept.push(d);
    }
    // Positionless "unsolved goals" (Lean puts them at 1:0 after a parse error inside a proof)
    // belong, in order, to the theorems whose proofs have a parse error; not to the header.
    let mut broken = (0..n).filter(|&i| {
        kept.iter()
            .any(|d| d.is_parse_error() && source.region(d.pos) == Region::Theorem(i))
    });
    for d in &kept {
        if d.is_positionless_unsolved_goals() {
            if let Some(i) = broken.next() {
                own[i].push(d.clone());
                continue;
            }
        }
        match source.region(d.pos) {
            Region::Header if d.is_error() => header_errors.push(d.data.trim_end().to_string()),
            Region::Theorem(i) => own[i].push(d.clone()),
            // Lean refuses a `mutual` block as a whole, at its keyword: none of its theorems
            // is declared.
            Region::Between if d.is_error() && !source.mutual_block_at(d.pos).is_empty() => {
                for i in source.mutual_block_at(d.pos) {
                    own[i].push(d.clone());
                }
            }
            Region::Between if d.is_error() => {
                tracing::debug!(line = d.pos.line, "error outside any theorem: {}", d.data)
            }
            _ => {}
        }
    }

    // An error inside what is read here as a string or a comment, or at a command keyword
    // read here as part of another command, or between theorems, or a parse error in a proof
    // Lean may recover from otherwise (`ReadOn::error_reads_on_otherwise`): Lean reads on from
    // there otherwise than this reading, so the theorems after it may not be the ones Lean
    // checked.
    let read_on = source.read_on();
    let desync = kept
        .iter()
        // (Not the goals Lean places at the file's start after a parse error in a proof: they
        // belong to that proof, whose own error is judged here.)
        .filter(|d| {
            d.is_error()
                && !d.is_positionless_unsolved_goals()
                && read_on.error_reads_on_otherwise(d.pos, d.may_be_parse_error())
        })
        .map(|d| d.pos)
        .min()
        .map(|pos| {
            (pos, format!(
                "Lean reports an error at line {} where it may read on otherwise than this reading (an error between theorems, a parse error in a proof, or an error inside what is read here as a string or a comment, or at a command keyword), so no theorem after it can be certified; fix that error",
                pos.line
            ))
        });
    let declares_reserved = reserved_answers.why_untrusted();
    let verdicts = (0..n)
        .map(|i| {
            let verdict = message::verdict(&own[i], false);
            let name = &probe.names[i];
            let name_taken = taken[i].then(|| {
                format!(
                    "a declaration named `{name}` exists before this theorem (from an import or a command not read here), so Lean cannot be declaring it under that name: the file is not read here as Lean reads it"
                )
            });
            let after_desync = desync
                .as_ref()
                .filter(|(at, _)| *at < source.theorems[i].keyword)
                .map(|(_, why)| why);
            let mut verdict = if name.is_empty() {
                let mut v = verdict;
                if v.status != Status::Error {
                    v.status = Status::Error;
                    v.errors
                        .push("a declaration without a name cannot be checked for axioms".into());
                }
                v
            } else if let Some(why) = probe
                .distrust
                .as_ref()
                .or(declares_reserved.as_ref())
                .or(probe.doubts[i].as_ref())
                .or(after_desync)
                .or(name_taken.as_ref())
            {
                let mut v = verdict;
                if v.status == Status::Proved {
                    v.status = Status::Error;
                    v.errors.push(why.clone());
                }
                v
            } else {
                axioms::judge_in(
                    verdict,
                    answers[i].as_ref(),
                    policy,
                    &source.theorems[i].display_name(),
                    &|axiom| source.declared.iter().any(|(_, d)| d == axiom),
                )
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
    FileVerdicts {
        verdicts,
        header_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_renamed_and_every_theorem_is_probed_right_after_itself() {
        let text = "prelude\nimport Mini\ntheorem a : True := trivial\nnamespace N\nexample : True := trivial\nend N\n";
        let source = SourceFile::parse(text);
        let probe = FileProbe::of(&source, &AxiomPolicy::default());
        // The reserved names are asked about right after the imports and at the end.
        let block = reserved::probe_block(&probe.guarded);
        let k = probe.guarded.len() as u32;
        assert_eq!(
            probe.text,
            format!(
                "prelude\nimport Mini\n{block}{}{block}",
                axioms::with_probe_options("\n#print axioms _root_.a\ntheorem a : True := trivial\n#print axioms a\n\nnamespace N\nnoncomputable def proofstep_checked_example_L5_C0 : True := trivial\n#print axioms proofstep_checked_example_L5_C0\n\nend N\n")
            )
        );
        assert_eq!(probe.reserved_probe(3), Some((Side::Start, 0)));
        assert_eq!(
            probe.reserved_probe(2 + k),
            Some((Side::Start, k as usize - 1))
        );
        assert_eq!(probe.reserved_probe(3 + k), None);
        assert_eq!(probe.reserved_probe(13 + k), Some((Side::End, 0)));
        // Before the theorem: is its name still free? After it: what does it rest on?
        let line = |l: u32| l + k + 1;
        assert_eq!(probe.fresh.get(&line(3)), Some(&0));
        assert_eq!(probe.probes.get(&line(5)), Some(&0));
        assert_eq!(probe.probes.get(&line(9)), Some(&1));
        assert_eq!(probe.names, ["a", "N.proofstep_checked_example_L5_C0"]);
        // Positions after the renamed keyword and after a probe map back to the file as written.
        let added = "noncomputable def proofstep_checked_example_L5_C0".len() as u32 - 7;
        assert_eq!(
            probe.original(Pos::new(line(8), 10 + added)),
            Pos::new(5, 10)
        );
        assert_eq!(probe.original(Pos::new(line(8), 3)), Pos::new(5, 0));
        assert_eq!(probe.original(Pos::new(line(7), 5)), Pos::new(4, 5));
        assert_eq!(probe.original(Pos::new(line(4), 8)), Pos::new(3, 8));
        assert_eq!(probe.original(Pos::new(2, 4)), Pos::new(2, 4));
        assert!(probe.inserted(Pos::new(line(5), 3)) && !probe.inserted(Pos::new(line(7), 0)));
        assert!(probe.inserted(Pos::new(line(3), 3)) && probe.inserted(Pos::new(4, 0)));
        // In a `mutual` block no command may stand: those theorems are asked about at the end.
        let mutual = SourceFile::parse(
            "mutual\ntheorem e : True := trivial\ntheorem o : True := trivial\nend\n",
        );
        let probe = FileProbe::of(&mutual, &AxiomPolicy::default());
        assert!(probe.text.ends_with(&format!(
            "{}{}",
            axioms::with_probe_options("end\n#print axioms _root_.e\n#print axioms _root_.o\n"),
            reserved::probe_block(&probe.guarded)
        )));
    }

    #[test]
    fn a_text_that_skips_the_kernel_or_runs_code_is_not_trusted() {
        let why = untrusted(
            "prelude\nset_option debug.skipKernelTC true in\ntheorem t : False := by decide +kernel\n",
        )
        .expect("refused");
        assert!(
            why.contains("debug.skipKernelTC") && why.contains("kernel"),
            "{why}"
        );
        assert!(untrusted("#eval 1 + 1\ntheorem t : True := trivial\n").is_some());
        assert!(untrusted("theorem t : True := trivial#eval 1\n").is_some());
        assert!(untrusted("theorem t : True := by\n  run_tac pure ()\n").is_some());
        assert!(untrusted("elab \"x\" : tactic => pure ()\n").is_some());
        let hidden =
            untrusted("#guard_msgs (drop error) in\ntheorem trivial : False := nonsense\n")
                .expect("refused");
        assert!(hidden.contains("hides Lean's messages"), "{hidden}");
        // Looked for in comments and strings too: a lexer out of step with Lean's (an
        // interpolated string it reads as plain) must not hide the option.
        assert!(
            untrusted("def x := \"{'\"'}\"\nset_option debug.skipKernelTC true -- \"\n").is_some()
        );
        assert!(
            untrusted("-- elaborate, evaluate, run_tactics\ntheorem t : True := trivial\n")
                .is_none()
        );
        // Attributes that make a declaration of the text's own run inside Lean.
        for text in [
            "@[tactic exact] def evil : Nat := 0\n",
            "@[simp, local tactic Lean.Parser.Tactic.exact] def evil : Nat := 0\n",
            "@[«tactic» exact] def evil : Nat := 0\n",
            "attribute [local term_elab foo] evil\n",
            "@[builtin_tactic exact] def evil : Nat := 0\n",
            "@[inline, simproc] def evil : Nat := 0\n",
            "simproc reduceEvil (evil _) := fun _ => pure .continue\n",
        ] {
            assert!(untrusted(text).is_some(), "{text}");
        }
        for text in [
            "/-- A tactic proof. -/\n@[simp] theorem t : True := by\n  trivial\n",
            "@[deprecated \"use the tactic\"] theorem t : True := trivial\n",
            "theorem tactic : True := trivial\nset_option simprocs false in\ntheorem u : True := trivial\n",
            "theorem t (xs : List Nat) (h : 0 < xs.length) : xs[0]'h = xs[0]'h := rfl\n",
        ] {
            assert!(untrusted(text).is_none(), "{text}");
        }
        assert!(
            untrusted("theorem t : True := by\n  set_option maxRecDepth 100 in trivial\n")
                .is_none()
        );
    }

    #[test]
    fn a_file_that_redefines_print_axioms_is_not_trusted() {
        assert!(redefines_probe(
            "macro_rules | `(#print axioms $x) => `(#eval IO.println \"fine\")\n"
        )
        .is_some());
        assert!(redefines_probe("syntax \"#print\" ident : command\n").is_some());
        assert!(redefines_probe("macro_rules | `(#printaxioms $x) => `(#check True)\n").is_some());
        // Lean's token table reads `#eval` out of `#evalt`, and `#guard_msgs` out of
        // `#guard_msgsin`.
        assert!(untrusted("theorem t : True := trivial\n#evalt\n").is_some());
        assert!(untrusted("#guard_msgsin\ntheorem t : True := trivial\n").is_some());
        assert!(
            redefines_probe("macro_rules | `(set_option pp.fullNames true in $c) => `($c)\n")
                .is_some()
        );
        assert!(redefines_probe("macro_rules | `(set_option $o $v in $c) => `($c)\n").is_some());
        assert!(redefines_probe("theorem t : True := trivial\n#print axioms t\n").is_none());
        assert!(redefines_probe("-- macro #print axioms\ntheorem t : True := trivial\n").is_none());
        assert!(redefines_probe(
            "@[command_elab Lean.Parser.Command.printAxioms] def spoof : CommandElab := fun _ => pure ()\n"
        )
        .is_some());
        assert!(redefines_probe("local notation \"axioms\" => 1\n").is_some());
    }
}
