//! Training pairs for a local whole-proof model (`proofstep data whole-proofs`): each theorem
//! of some Lean files becomes refine's first prompt, rendered exactly as `refine` renders it
//! for that theorem, with the file's tactic proof as the completion; with the traced steps
//! `extract` wrote, also synthesized repairs: the repair prompt for a proof that follows the
//! real one for a few steps and then takes another theorem's step, with the goals open
//! before that step, and the real proof as the completion. A model trained on both and served
//! by `proofstep serve` is what `refine --api-kind completions` asks.
//!
//! The synthesized repairs carry no Lean message (Lean is not run on them), so a repair
//! template that asks for `{{errors}}` is refused for them rather than filled with nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::leandojo::for_each_theorem;
use crate::data::{DataError, Example};
use crate::lean::backend::proof_text;
use crate::lean::source::{lean_files_below, mentions_sorry, HeaderText, SourceFile};
use crate::prompt::completion;
use crate::refine::feedback::Feedback;
use crate::refine::model::{FailedProof, ProofAsk, Theorem};
use crate::refine::steps::split_steps;
use crate::refine::template::PromptTemplates;

/// How the pairs are made.
#[derive(Clone, Debug)]
pub struct PairOptions {
    /// The prompts, as the refine run that will ask the model uses them.
    pub templates: PromptTemplates,
    /// What `{{lean_version}}` becomes (the line `lean --version` prints where refine runs).
    pub lean_version: String,
    /// Synthesized repairs per theorem (needs the traced steps).
    pub repairs: usize,
    /// Seed of the choice of failing step and wrong tactic.
    pub seed: u64,
}

/// What was made, and what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PairCounts {
    /// Theorems with a tactic proof.
    pub theorems: usize,
    /// First-request pairs written (one per theorem).
    pub first: usize,
    /// Repair pairs written.
    pub repairs: usize,
    /// Theorems with a term-mode proof, none, or one that mentions `sorry`: no tactic proof to
    /// learn.
    pub without_tactic_proof: usize,
    /// Theorems the traced steps do not cover (no record of that name, steps that do not match
    /// the source's, or a name two theorems of the input share), so no repair was synthesized
    /// for them.
    pub untraced: usize,
}

/// Why pairs cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// Reading a source or the traced steps failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The repair template needs Lean's messages, which synthesized repairs do not have.
    #[error("the repair template uses {{{{errors}}}}, which synthesized repairs cannot fill (Lean is not run on them): give --prompt-repair a template without it, or pass --repairs 0")]
    RepairNeedsErrors,
    /// Repairs were asked for without the traced steps they are made from.
    #[error("--repairs needs the goals before each step: pass --states with the JSON file `proofstep extract` wrote for these theorems (e.g. extracted/random/train.json)")]
    RepairsNeedStates,
    /// The input holds no theorem with a tactic proof.
    #[error(
        "{0}: no theorem with a tactic proof (`:= by`, no `sorry`) there, so nothing was written"
    )]
    NoTacticProofs(PathBuf),
    /// Repairs were asked for but no theorem of the input is in the states file.
    #[error("--states names none of the input's theorems with the same steps (or names each twice), so no repair could be made: pass the file `extract` wrote for this input")]
    NothingTraced,
    /// The input holds no Lean file.
    #[error(
        "{0}: no .lean file there; pass a Lean file or a folder of them (e.g. a corpus split)"
    )]
    NoLeanFiles(PathBuf),
}

/// One theorem with its tactic proof, split into top-level steps.
struct Source {
    theorem: Theorem,
    steps: Vec<String>,
}

/// The pairs for the theorems of `input` (a Lean file or a folder, searched recursively, in
/// path order), repairs drawn from `states` (an `extract` split file) when given.
pub fn whole_proof_pairs(
    input: &Path,
    states: Option<&Path>,
    options: &PairOptions,
) -> Result<(Vec<Example>, PairCounts), PairError> {
    if options.repairs > 0 {
        if states.is_none() {
            return Err(PairError::RepairsNeedStates);
        }
        if options.templates.repair.uses("errors") {
            return Err(PairError::RepairNeedsErrors);
        }
    }
    let mut counts = PairCounts::default();
    let sources = read_sources(input, &mut counts)?;
    let mut traced = match states {
        Some(path) if options.repairs > 0 => traced_states(path)?,
        _ => HashMap::new(),
    };
    // A name twice among the sources (an `example@L3` in two files) cannot be matched to its
    // trace by name: those get no repair rather than another theorem's goals.
    let mut seen = HashMap::new();
    for source in &sources {
        *seen.entry(source.theorem.name.as_str()).or_insert(0usize) += 1;
    }
    traced.retain(|name, _| seen.get(name.as_str()) == Some(&1));
    let pool: Vec<&str> = sources
        .iter()
        .flat_map(|s| s.steps.iter().map(String::as_str))
        .collect();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut out = Vec::new();
    for source in &sources {
        let answer = completion(proof_text(&source.steps).trim_end());
        let ask = ProofAsk {
            theorem: &source.theorem,
            lean_version: &options.lean_version,
            repair: None,
            seed: 0,
        };
        out.push(Example {
            input: options.templates.prompt(&ask),
            output: answer.clone(),
        });
        counts.first += 1;
        if options.repairs == 0 {
            continue;
        }
        let befores = traced
            .get(&source.theorem.name)
            .map(|steps| matching_states(&source.steps, steps))
            .unwrap_or_default();
        if befores.is_empty() {
            counts.untraced += 1;
            continue;
        }
        for _ in 0..options.repairs {
            let at = rng.random_range(0..befores.len());
            let Some(wrong) = wrong_step(&pool, &source.steps[at], &mut rng) else {
                continue;
            };
            let mut failed = source.steps[..at].to_vec();
            failed.push(wrong.to_string());
            let failure = FailedProof {
                proof: failed.join("\n"),
                feedback: Feedback {
                    status: "error".to_string(),
                    messages: Vec::new(),
                    goals: vec![befores[at].clone()],
                    accepted_steps: at,
                    cut_by_time_limit: false,
                    total_steps: failed.len(),
                },
            };
            let ask = ProofAsk {
                repair: Some(&failure),
                ..ask.clone()
            };
            out.push(Example {
                input: options.templates.prompt(&ask),
                output: answer.clone(),
            });
            counts.repairs += 1;
        }
    }
    if out.is_empty() {
        return Err(PairError::NoTacticProofs(input.to_path_buf()));
    }
    if options.repairs > 0 && counts.repairs == 0 {
        return Err(PairError::NothingTraced);
    }
    Ok((out, counts))
}

/// The theorems of `input` with tactic proofs, named as `extract` names them.
fn read_sources(input: &Path, counts: &mut PairCounts) -> Result<Vec<Source>, PairError> {
    let files = if input.is_file() {
        vec![input.to_path_buf()]
    } else {
        lean_files_below(input).map_err(|e| DataError::Io {
            path: e.path,
            source: e.source,
        })?
    };
    if files.is_empty() {
        return Err(PairError::NoLeanFiles(input.to_path_buf()));
    }
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
            path: path.clone(),
            source,
        })?;
        let file = SourceFile::parse(&text);
        for (index, t) in file.theorems.iter().enumerate() {
            if !t.has_statement() {
                continue;
            }
            let steps = if t.is_tactic_proof() && !mentions_sorry(&t.proof) {
                split_steps(&t.tactic_block())
            } else {
                Vec::new()
            };
            if steps.is_empty() {
                counts.without_tactic_proof += 1;
                continue;
            }
            counts.theorems += 1;
            out.push(Source {
                theorem: Theorem {
                    name: t.display_name(),
                    header: HeaderText::of(&file, index).to_string(),
                    statement: file
                        .statement_as_written(index)
                        .unwrap_or_else(|| t.statement.clone()),
                },
                steps,
            });
        }
    }
    Ok(out)
}

/// Each traced theorem's steps, as (tactic, goals before), by full name.
fn traced_states(path: &Path) -> Result<HashMap<String, Vec<(String, String)>>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = HashMap::new();
    for_each_theorem(std::io::BufReader::new(file), path, |t| {
        let steps = t
            .traced_tactics
            .into_iter()
            .map(|s| (s.tactic, s.state_before))
            .collect();
        out.insert(t.full_name, steps);
    })?;
    Ok(out)
}

/// The goals before each top-level step, as long as the traced steps are those steps (a
/// trace that enters a bullet or a `case` stops matching there).
fn matching_states(steps: &[String], traced: &[(String, String)]) -> Vec<String> {
    steps
        .iter()
        .zip(traced)
        .take_while(|(step, (tactic, _))| step.trim() == tactic.trim())
        .map(|(_, (_, before))| before.clone())
        .collect()
}

/// A step drawn from every theorem's steps that differs from `right` (a few draws, then none).
fn wrong_step<'a>(pool: &[&'a str], right: &str, rng: &mut StdRng) -> Option<&'a str> {
    (0..8)
        .map(|_| pool[rng.random_range(0..pool.len())])
        .find(|step| step.trim() != right.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refine::template::Template;

    const FILE: &str = "prelude\nimport Mini\n\
theorem a (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n  · exact hp\n  · exact hq\n\
theorem b (p : Prop) (hp : p) : p := hp\n\
theorem c (p : Prop) (hp : p) : p := by\n  intro\n  exact hp\n\
theorem d (p : Prop) : p := by\n  sorry\n\
theorem e (p : Prop) (hp : p) : p := byContra hp\n";

    fn compact() -> PromptTemplates {
        PromptTemplates {
            first: Template::parse("{{statement}} := by\n", "first").unwrap(),
            repair: Template::parse(
                "{{statement}} := by\n{{failed_proof}}\n-- goals:\n{{goals}}\n:= by\n",
                "repair",
            )
            .unwrap(),
        }
    }

    fn write(dir: &Path) -> PathBuf {
        let path = dir.join("A.lean");
        std::fs::write(&path, FILE).unwrap();
        path
    }

    #[test]
    fn each_tactic_proof_becomes_the_first_prompt_and_its_proof() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path());
        let options = PairOptions {
            templates: compact(),
            lean_version: "Lean 4".into(),
            repairs: 0,
            seed: 0,
        };
        let (pairs, counts) = whole_proof_pairs(&path, None, &options).unwrap();
        assert_eq!(counts.theorems, 2);
        assert_eq!(
            counts.without_tactic_proof, 3,
            "b (term), d (sorry), e (byContra term)"
        );
        assert_eq!(pairs.len(), 2);
        assert_eq!(
            pairs[0].input,
            "theorem a (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        );
        assert_eq!(
            pairs[0].output,
            "  constructor\n  · exact hp\n  · exact hq<|endoftext|>"
        );
    }

    #[test]
    fn repairs_carry_a_wrong_step_and_the_goals_before_it_and_answer_the_real_proof() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path());
        let states = dir.path().join("train.json");
        std::fs::write(
            &states,
            r#"[{"full_name":"c","file_path":"A.lean","traced_tactics":[
              {"tactic":"intro","state_before":"p : Prop\nhp : p\n⊢ p","state_after":"x"},
              {"tactic":"exact hp","state_before":"GOALS-BEFORE-EXACT","state_after":"no goals"}]}]"#,
        )
        .unwrap();
        let options = PairOptions {
            templates: compact(),
            lean_version: "Lean 4".into(),
            repairs: 6,
            seed: 1,
        };
        let (pairs, counts) = whole_proof_pairs(&path, Some(&states), &options).unwrap();
        assert_eq!(counts.untraced, 1, "a is not in the states file");
        assert_eq!(counts.repairs, 6);
        let repairs: Vec<&Example> = pairs
            .iter()
            .filter(|p| p.input.contains("-- goals:"))
            .collect();
        assert_eq!(repairs.len(), 6);
        for repair in repairs {
            assert_eq!(repair.output, "  intro\n  exact hp<|endoftext|>");
            assert!(repair
                .input
                .starts_with("theorem c (p : Prop) (hp : p) : p := by\n"));
            let before_exact = repair.input.contains("GOALS-BEFORE-EXACT");
            let failed = repair.input.split("-- goals:").next().unwrap();
            // The failed proof follows the real one up to the failing step, then differs.
            assert_eq!(
                failed.contains("  intro\n"),
                before_exact,
                "{}",
                repair.input
            );
            assert!(!failed.contains("exact hp\n-- "), "{}", repair.input);
            // Indented once, as refine shows a failed proof.
            assert!(!failed.contains("\n    "), "{}", repair.input);
        }
    }

    #[test]
    fn a_name_two_files_share_gets_no_repair_rather_than_the_other_ones_goals() {
        let dir = tempfile::tempdir().unwrap();
        for (file, hyp) in [("A.lean", "hp"), ("B.lean", "hq")] {
            let text =
                format!("theorem c (p : Prop) ({hyp} : p) : p := by\n  intro\n  exact {hyp}\n");
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let states = dir.path().join("states.json");
        std::fs::write(
            &states,
            r#"[{"full_name":"c","file_path":"B.lean","traced_tactics":[
              {"tactic":"intro","state_before":"FROM-B","state_after":"x"}]}]"#,
        )
        .unwrap();
        let options = PairOptions {
            templates: compact(),
            lean_version: "Lean 4".into(),
            repairs: 1,
            seed: 0,
        };
        let err = whole_proof_pairs(dir.path(), Some(&states), &options).unwrap_err();
        assert!(matches!(err, PairError::NothingTraced), "{err}");
    }

    #[test]
    fn repairs_are_refused_without_states_or_with_a_template_that_wants_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path());
        let mut options = PairOptions {
            templates: compact(),
            lean_version: "Lean 4".into(),
            repairs: 1,
            seed: 0,
        };
        let err = whole_proof_pairs(&path, None, &options).unwrap_err();
        assert!(err.to_string().contains("--states"), "{err}");
        options.templates = PromptTemplates::default();
        let err = whole_proof_pairs(&path, Some(&path), &options).unwrap_err();
        assert!(err.to_string().contains("{{errors}}"), "{err}");
    }
}
