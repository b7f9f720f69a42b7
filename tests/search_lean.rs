//! Best-first search on the test world's real Lean, driven by `ScriptedPredictor` (which stands in
//! for a trained model): backtracking, the visited set, every budget, and the refusal of `sorry`
//! and of proofs that leave no goals but carry an error. Each scenario runs on every backend.

mod common;

use std::time::Duration;

use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::backend::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::lsp::server::ServerOptions;
use proofstep::lean::ProofBackend;
use proofstep::search::{
    search, AlsoTry, CandidateOutcome, ScriptedPredictor, SearchConfig, SearchResult, StopReason,
};

const HEADER: &str = "prelude\nimport Mini\n";

/// The backends to run each scenario on, with the given per-tactic timeout.
fn backends(test: &str, tactic_timeout: Duration) -> Vec<Box<dyn ProofBackend>> {
    let Some(lean) = common::test_lean(test) else {
        return Vec::new();
    };
    let cmd = lean.command();
    let mut options = ServerBackendOptions {
        workers: 2,
        ..ServerBackendOptions::default()
    };
    options.server = ServerOptions {
        timeout: tactic_timeout,
        ..ServerOptions::default()
    };
    let server = ServerBackend::start(&cmd, options).expect("the Lean server starts");
    let file = FileBackend::new(cmd).with_timeout(tactic_timeout);
    vec![Box::new(server), Box::new(file)]
}

fn config() -> SearchConfig {
    SearchConfig {
        max_expansions: 20,
        time_limit: Duration::from_secs(120),
        ..SearchConfig::default()
    }
}

fn outcomes(result: &SearchResult) -> Vec<(usize, String, CandidateOutcome)> {
    result
        .trace
        .iter()
        .flat_map(|e| {
            e.candidates
                .iter()
                .map(move |c| (e.node, c.tactic.clone(), c.outcome.clone()))
        })
        .collect()
}

#[test]
fn backtracks_out_of_a_dead_end() {
    for backend in backends("backtracks_out_of_a_dead_end", Duration::from_secs(60)) {
        // The best first step (`right`) leads to `⊢ q`, where nothing works.
        let predictor = ScriptedPredictor::new()
            .on("⊢ p ∨ q", &[("right", -0.1), ("left", -0.7)])
            .on("⊢ q", &[("exact hp", -0.1), ("assumption", -0.2)])
            .on("⊢ p", &[("exact hp", -0.3)]);
        let statement = "theorem back (p q : Prop) (hp : p) : p ∨ q";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(result.stop, StopReason::Proved);
        assert_eq!(
            result.proof.as_deref(),
            Some(&["left".to_string(), "exact hp".to_string()][..])
        );
        assert!(
            (result.score.unwrap() - 1.0).abs() < 1e-9,
            "cost = 0.7 + 0.3"
        );
        // Root, then the dead end (cheaper, so first), then the way out.
        assert_eq!(result.counts.expansions, 3);
        let dead = &result.trace[1];
        assert_eq!(dead.steps, vec!["right".to_string()]);
        assert!(dead
            .candidates
            .iter()
            .all(|c| matches!(c.outcome, CandidateOutcome::Failed { .. })));
        assert_eq!(result.trace[2].steps, vec!["left".to_string()]);
        assert_eq!(result.counts.failed, 2);
    }
}

#[test]
fn a_dry_queue_retries_expanded_nodes_at_the_retry_temperature() {
    for backend in backends(
        "a_dry_queue_retries_expanded_nodes_at_the_retry_temperature",
        Duration::from_secs(60),
    ) {
        // The usual samples only lead to the dead end `⊢ q`; fresh samples at 1.0 bring `left`.
        let predictor = ScriptedPredictor::new()
            .on_at(1.0, "⊢ p ∨ q", &[("right", -0.1), ("left", -0.5)])
            .on("⊢ p ∨ q", &[("right", -0.1)])
            .on("⊢ p", &[("exact hp", -0.3)]);
        let statement = "theorem retry (p q : Prop) (hp : p) : p ∨ q";
        let plain = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(!plain.proved, "{}: {plain:#?}", backend.name());
        assert_eq!(plain.stop, StopReason::QueueEmpty);
        assert_eq!((plain.counts.expansions, plain.counts.retries), (2, 0));

        let cfg = SearchConfig {
            retry_temperatures: vec![1.0],
            ..config()
        };
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof.as_deref(),
            Some(&["left".to_string(), "exact hp".to_string()][..])
        );
        // Root, the dead end, the root again (the cheapest expanded node), then `⊢ p`.
        assert_eq!((result.counts.expansions, result.counts.retries), (4, 1));
        let retry = &result.trace[2];
        assert_eq!(retry.node, 0);
        let tactics: Vec<&str> = retry.candidates.iter().map(|c| c.tactic.as_str()).collect();
        assert_eq!(tactics, ["left"], "`right` was tried at the root already");
    }
}

#[test]
fn listed_tactics_prove_what_the_model_alone_cannot() {
    for backend in backends(
        "listed_tactics_prove_what_the_model_alone_cannot",
        Duration::from_secs(60),
    ) {
        // The model only knows a wrong step; `constructor` and `assumption` come from the list.
        let model = || ScriptedPredictor::new().on("⊢ p ∧ q", &[("exact hp", -0.4)]);
        let statement = "theorem both (p q : Prop) (hp : p) (hq : q) : p ∧ q";
        let alone = search(backend.as_ref(), &model(), HEADER, statement, &config()).unwrap();
        assert!(!alone.proved, "{}: {alone:#?}", backend.name());
        assert_eq!(alone.stop, StopReason::QueueEmpty);

        let tactics = ["constructor".to_string(), "assumption".into()];
        let predictor = AlsoTry::new(Box::new(model()), &tactics);
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof.as_deref(),
            Some(&["constructor", "assumption", "assumption"].map(String::from)[..])
        );
        // At the root the model's step comes first and the listed ones cost as much as it.
        let root: Vec<(&str, f64)> = result.trace[0]
            .candidates
            .iter()
            .map(|c| (c.tactic.as_str(), c.score))
            .collect();
        assert_eq!(
            root,
            [
                ("exact hp", -0.4),
                ("constructor", -0.4),
                ("assumption", -0.4)
            ]
        );
        assert!(
            (result.score.unwrap() - 0.4).abs() < 1e-9,
            "only the root's step costs"
        );
    }
}

#[test]
fn name_repair_proves_with_the_hypotheses_the_model_misnamed() {
    for backend in backends(
        "name_repair_proves_with_the_hypotheses_the_model_misnamed",
        Duration::from_secs(60),
    ) {
        // The model's one step has the right shape but two names the goal lacks.
        let model = ScriptedPredictor::new().on("⊢ q ∧ p", &[("exact ⟨h9, h₁.1⟩", -0.3)]);
        let statement = "theorem misnamed (p q : Prop) (h₂ : p ∧ q) (hq : q) : q ∧ p";
        let alone = search(backend.as_ref(), &model, HEADER, statement, &config()).unwrap();
        assert!(!alone.proved, "{}: {alone:#?}", backend.name());
        assert_eq!(
            (alone.stop, alone.counts.repaired),
            (StopReason::QueueEmpty, 0)
        );

        let cfg = SearchConfig {
            name_repairs: 16,
            ..config()
        };
        let result = search(backend.as_ref(), &model, HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof.as_deref(),
            Some(&["exact ⟨hq, h₂.1⟩".to_string()][..])
        );
        // One repair per name and round: `h9` first, then `h₁` in the repair that kept it.
        let proved = result.trace[0]
            .candidates
            .iter()
            .find(|c| c.outcome == CandidateOutcome::Proved)
            .expect("a proved candidate");
        assert_eq!(proved.repair_of.as_deref(), Some("exact ⟨hq, h₁.1⟩"));
        assert_eq!(
            proved.score, -0.3,
            "a repair costs what the model's step costs"
        );
        assert!(result.counts.repaired <= 16, "{:?}", result.counts);

        // A budget too small for the second round finds nothing.
        let cfg = SearchConfig {
            name_repairs: 4,
            ..config()
        };
        let short = search(backend.as_ref(), &model, HEADER, statement, &cfg).unwrap();
        assert!(!short.proved, "{}: {short:#?}", backend.name());
        assert_eq!(short.counts.repaired, 4);
    }
}

/// The repair budget goes round the failed candidates: the model's best candidate, which no
/// name repairs, does not spend the budget the second one needs.
#[test]
fn name_repairs_go_round_the_failed_candidates() {
    for backend in backends(
        "name_repairs_go_round_the_failed_candidates",
        Duration::from_secs(60),
    ) {
        let model = ScriptedPredictor::new().on("⊢ q", &[("exact h9.1", -0.1), ("exact h8", -0.2)]);
        let statement = "theorem round (p q r : Prop) (hp : p) (hr : r) (hq : q) : q";
        let cfg = SearchConfig {
            name_repairs: 2,
            ..config()
        };
        let result = search(backend.as_ref(), &model, HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(result.proof.as_deref(), Some(&["exact hq".to_string()][..]));
        let repairs: Vec<(&str, Option<&str>)> = result.trace[0]
            .candidates
            .iter()
            .filter(|c| c.repair_of.is_some())
            .map(|c| (c.tactic.as_str(), c.repair_of.as_deref()))
            .collect();
        // The newest proof first (`hq`), one repair of each failed candidate.
        assert_eq!(
            repairs,
            [
                ("exact hq.1", Some("exact h9.1")),
                ("exact hq", Some("exact h8"))
            ]
        );
    }
}

/// `intro h1` and `intro h₂` leave one state up to a hypothesis name: it is expanded once.
/// `intro hq`, which hides the hypothesis `hq : q` (`hq✝`), leaves another.
#[test]
fn states_that_differ_only_in_local_names_are_one_state() {
    for backend in backends(
        "states_that_differ_only_in_local_names_are_one_state",
        Duration::from_secs(60),
    ) {
        let model = ScriptedPredictor::new()
            .on(
                "⊢ p → q",
                &[("intro h1", -0.1), ("intro h₂", -0.2), ("intro hq", -0.3)],
            )
            .on("h1 : p ⊢ q", &[("exact hq", -0.1)]);
        let statement = "theorem renamed (p q : Prop) (hq : q) : p → q";
        let result = search(backend.as_ref(), &model, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(result.counts.expansions, 2);
        let seen = outcomes(&result);
        assert!(seen.contains(&(
            0,
            "intro h₂".into(),
            CandidateOutcome::Duplicate {
                node: 1,
                expanded: false,
                improved: false
            }
        )));
        assert!(
            seen.iter().any(|(node, tactic, outcome)| *node == 0
                && tactic == "intro hq"
                && matches!(outcome, CandidateOutcome::Open { node: 2, .. })),
            "{seen:#?}"
        );
    }
}

/// A state reached under two names is expanded once; a retry asks about it under the other
/// name, which the model may answer better.
#[test]
fn a_retry_asks_about_the_state_under_its_other_names() {
    for backend in backends(
        "a_retry_asks_about_the_state_under_its_other_names",
        Duration::from_secs(60),
    ) {
        let model = ScriptedPredictor::new()
            .on("⊢ p → q", &[("intro h1", -0.1), ("intro h₂", -0.2)])
            .on("h₂ : p ⊢ q", &[("exact hq", -0.1)]);
        let statement = "theorem spare (p q : Prop) (hq : q) : p → q";
        let once = search(backend.as_ref(), &model, HEADER, statement, &config()).unwrap();
        assert!(!once.proved, "{}: {once:#?}", backend.name());
        assert_eq!(once.stop, StopReason::QueueEmpty);
        let cfg = SearchConfig {
            retry_temperatures: vec![0.8],
            ..config()
        };
        let result = search(backend.as_ref(), &model, HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof.as_deref(),
            Some(&["intro h₂".to_string(), "exact hq".to_string()][..])
        );
        // The root, node 1 under `h1`, the root again, node 1 under `h₂`.
        let expanded: Vec<usize> = result.trace.iter().map(|e| e.node).collect();
        assert_eq!(expanded, [0, 1, 0, 1]);
        assert_eq!(result.counts.retries, 2);
    }
}

/// A tactic tried at a node under one naming is tried again under another when it names a
/// local: `exact h1` fails where `h1 : p` and proves where `h1 : q`.
#[test]
fn a_tactic_that_names_a_local_is_tried_again_under_other_names() {
    for backend in backends(
        "a_tactic_that_names_a_local_is_tried_again_under_other_names",
        Duration::from_secs(60),
    ) {
        let model = ScriptedPredictor::new()
            .on(
                "⊢ p → q → q",
                &[("intro h1 h2", -0.1), ("intro h2 h1", -0.2)],
            )
            .on("⊢ q", &[("exact h1", -0.1)]);
        let statement = "theorem swapped (p q : Prop) : p → q → q";
        let cfg = SearchConfig {
            retry_temperatures: vec![0.8],
            ..config()
        };
        let result = search(backend.as_ref(), &model, HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof.as_deref(),
            Some(&["intro h2 h1".to_string(), "exact h1".to_string()][..])
        );
    }
}

#[test]
fn a_duplicate_state_is_not_expanded_twice() {
    for backend in backends(
        "a_duplicate_state_is_not_expanded_twice",
        Duration::from_secs(60),
    ) {
        let predictor = ScriptedPredictor::new()
            .on(
                "⊢ p → p",
                &[
                    ("intro hp", -0.1),
                    ("intro  hp", -0.2),
                    ("show p → p", -0.3),
                ],
            )
            .on("hp : p ⊢ p", &[("show p", -0.1), ("exact (hp)", -0.9)]);
        let statement = "theorem dup (p : Prop) : p → p";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        // Each state was asked about (generated for) and expanded exactly once.
        assert!(
            predictor.calls().values().all(|&n| n == 1),
            "{:?}",
            predictor.calls()
        );
        assert_eq!(result.counts.expansions, 2);
        let mut nodes: Vec<usize> = result.trace.iter().map(|e| e.node).collect();
        nodes.dedup();
        assert_eq!(nodes.len(), 2);
        let seen = outcomes(&result);
        // `intro  hp` reaches the queued node 1; `show p → p` the expanded root; `show p` itself.
        assert!(seen.contains(&(
            0,
            "intro  hp".into(),
            CandidateOutcome::Duplicate {
                node: 1,
                expanded: false,
                improved: false
            }
        )));
        assert!(seen.contains(&(
            0,
            "show p → p".into(),
            CandidateOutcome::Duplicate {
                node: 0,
                expanded: true,
                improved: false
            }
        )));
        assert!(seen.contains(&(
            1,
            "show p".into(),
            CandidateOutcome::Duplicate {
                node: 1,
                expanded: true,
                improved: false
            }
        )));
        assert_eq!(result.counts.duplicates, 3);
    }
}

/// Every `have` adds a hypothesis, so this script makes new states forever.
fn endless() -> ScriptedPredictor {
    ScriptedPredictor::new().on("⊢ p", &[("have h : p := hp", -0.5)])
}

#[test]
fn the_expansion_budget_stops_the_search() {
    for backend in backends(
        "the_expansion_budget_stops_the_search",
        Duration::from_secs(60),
    ) {
        let predictor = endless();
        let cfg = SearchConfig {
            max_expansions: 3,
            ..config()
        };
        let result = search(
            backend.as_ref(),
            &predictor,
            HEADER,
            "theorem e (p : Prop) (hp : p) : p",
            &cfg,
        )
        .unwrap();
        assert!(!result.proved);
        assert_eq!(result.stop, StopReason::MaxExpansions);
        assert_eq!(result.counts.expansions, 3);
        assert_eq!(result.counts.new_states, 3);
        // Nothing is generated ahead for an expansion the budget will not allow.
        assert_eq!(predictor.total_calls(), 3);
    }
}

#[test]
fn the_time_budget_stops_the_search() {
    for backend in backends("the_time_budget_stops_the_search", Duration::from_secs(60)) {
        let predictor = endless();
        let cfg = SearchConfig {
            max_expansions: 1_000_000,
            time_limit: Duration::from_secs(3),
            ..config()
        };
        let result = search(
            backend.as_ref(),
            &predictor,
            HEADER,
            "theorem e (p : Prop) (hp : p) : p",
            &cfg,
        )
        .unwrap();
        assert!(!result.proved);
        assert_eq!(result.stop, StopReason::TimeLimit);
        assert!(result.counts.expansions >= 1);
        assert!(result.counts.expansions < 1_000_000);
        assert!(result.times.total_secs >= 3.0);
    }
}

/// A header in which `inst 0` sends instance search up an endless chain `Loop 0 ← Loop 1 ← …`
/// with every limit lifted: elaborating it never ends on its own.
const LOOP_HEADER: &str = "prelude\nimport Mini\n\
set_option synthInstance.maxHeartbeats 0\n\
set_option synthInstance.maxSize 100000000\n\
set_option maxHeartbeats 0\n\
class Loop (n : Nat) : Prop where\n  intro : True\n\
instance loopStep {n : Nat} [Loop (Nat.succ n)] : Loop n := ⟨True.intro⟩\n\
def inst (n : Nat) [i : Loop n] : Loop n := i\n";

#[test]
fn the_tactic_timeout_cuts_a_step_and_the_search_goes_on() {
    for backend in backends(
        "the_tactic_timeout_cuts_a_step_and_the_search_goes_on",
        Duration::from_secs(3),
    ) {
        let predictor = ScriptedPredictor::new().on(
            "⊢ p",
            &[("have h : Loop 0 := inst 0", -0.1), ("exact hp", -0.5)],
        );
        let statement = "theorem slow (p : Prop) (hp : p) : p";
        let cfg = SearchConfig {
            check_threads: 1,
            ..config()
        };
        let result = search(backend.as_ref(), &predictor, LOOP_HEADER, statement, &cfg).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(result.counts.timeouts, 1);
        let first = &result.trace[0].candidates[0];
        assert!(
            matches!(first.outcome, CandidateOutcome::Timeout { .. }),
            "{first:?}"
        );
        assert_eq!(result.proof.as_deref(), Some(&["exact hp".to_string()][..]));
    }
}

#[test]
fn sorry_is_never_accepted() {
    for backend in backends("sorry_is_never_accepted", Duration::from_secs(60)) {
        let predictor = ScriptedPredictor::new().on(
            "⊢ q",
            &[
                ("sorry", -0.01),
                ("admit", -0.02),
                ("exact sorry", -0.03),
                ("exact sorryAx q false", -0.04),
                ("exact hp\ntheorem cheat : False := sorry", -0.05),
            ],
        );
        let statement = "theorem s (p q : Prop) (hp : p) : q";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(!result.proved);
        assert_eq!(result.stop, StopReason::QueueEmpty);
        assert_eq!(result.counts.rejected, 5);
        assert_eq!(result.counts.checked, 0, "Lean never sees them");
    }
}

#[test]
fn a_proof_with_an_error_but_no_goals_left_is_not_accepted() {
    for backend in backends(
        "a_proof_with_an_error_but_no_goals_left_is_not_accepted",
        Duration::from_secs(60),
    ) {
        // Each of these leaves no goal behind (error recovery closes it) yet is not a proof.
        let predictor = ScriptedPredictor::new().on(
            "⊢ p ∧ q",
            &[
                ("exact ⟨hp, hp⟩", -0.1),
                ("constructor <;> exact hp", -0.2),
                ("exact ⟨hp, unknownLemma⟩", -0.3),
                ("exact And.intro hp hq\n  exact hp", -0.4),
            ],
        );
        let statement = "theorem w (p q : Prop) (hp : p) (hq : q) : p ∧ q";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(!result.proved, "{}: {result:#?}", backend.name());
        for (_, tactic, outcome) in outcomes(&result) {
            assert!(
                matches!(
                    outcome,
                    CandidateOutcome::Failed { .. } | CandidateOutcome::ProofRejected { .. }
                ),
                "{tactic}: {outcome:?}"
            );
        }
        assert_eq!(result.counts.checked, 4);
    }
}

#[test]
fn proves_the_test_world_test_thm_and_the_json_carries_the_trace() {
    for backend in backends(
        "proves_the_test_world_test_thm_and_the_json_carries_the_trace",
        Duration::from_secs(60),
    ) {
        let predictor = ScriptedPredictor::new()
            .on("⊢ n + 0 = m", &[("rw [Nat.add_zero]", -0.2), ("rfl", -0.1)])
            .on("⊢ n = m", &[("exact h", -0.1), ("exact Eq.symm h", -0.4)]);
        let statement = "theorem test_thm (m n : Nat) (h : m = n) : n + 0 = m";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            result.proof_text().unwrap(),
            "  rw [Nat.add_zero]\n  exact Eq.symm h\n"
        );
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["stop"], "proved");
        assert_eq!(json["trace"][0]["candidates"][0]["tactic"], "rfl");
        assert_eq!(json["trace"][0]["candidates"][0]["outcome"], "failed");
        assert!(json["times"]["lean_secs"].as_f64().unwrap() > 0.0);
        let back: SearchResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, result);
    }
}

#[test]
fn a_statement_that_does_not_elaborate_is_an_error() {
    for backend in backends(
        "a_statement_that_does_not_elaborate_is_an_error",
        Duration::from_secs(60),
    ) {
        let predictor = ScriptedPredictor::new();
        let err = search(
            backend.as_ref(),
            &predictor,
            HEADER,
            "theorem bad (p : Prop) : NoSuchType",
            &config(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot start the theorem"),
            "{err}"
        );
    }
}

#[test]
fn generating_ahead_changes_nothing_but_the_time() {
    for backend in backends(
        "generating_ahead_changes_nothing_but_the_time",
        Duration::from_secs(60),
    ) {
        let predictor = || {
            ScriptedPredictor::new()
                .on("⊢ p ∨ q", &[("right", -0.1), ("left", -0.7)])
                .on("⊢ q", &[("exact hp", -0.1), ("assumption", -0.2)])
                .on("⊢ p", &[("exact hp", -0.3)])
        };
        let statement = "theorem back (p q : Prop) (hp : p) : p ∨ q";
        let ahead = predictor();
        let on = search(
            backend.as_ref(),
            &ahead,
            HEADER,
            statement,
            &SearchConfig {
                pipeline: true,
                ..config()
            },
        )
        .unwrap();
        let off = search(
            backend.as_ref(),
            &predictor(),
            HEADER,
            statement,
            &SearchConfig {
                pipeline: false,
                ..config()
            },
        )
        .unwrap();
        assert_eq!(on.proof, off.proof);
        assert_eq!(on.counts, off.counts);
        let path = |r: &SearchResult| {
            r.trace
                .iter()
                .map(|e| (e.node, e.steps.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(path(&on), path(&off));
        // The way out (`left`) was generated while the dead end's candidates were being checked.
        // (Nothing is queued while the root is checked, so the root's children are not.)
        assert!(!on.trace[1].prefetched && on.trace[2].prefetched);
        assert!(!off.trace.iter().any(|e| e.prefetched));
        assert!(
            ahead.calls().values().all(|&n| n == 1),
            "{:?}",
            ahead.calls()
        );
    }
}

#[test]
fn a_cheaper_path_to_a_queued_state_replaces_the_dearer_one() {
    for backend in backends(
        "a_cheaper_path_to_a_queued_state_replaces_the_dearer_one",
        Duration::from_secs(60),
    ) {
        // `intro a b` reaches `a : p, b : q ⊢ p` at once but dearly (3.0); `intro a` then `intro b`
        // reaches it for 0.3 while it is still queued.
        let predictor = ScriptedPredictor::new()
            .on("⊢ p → q → p", &[("intro a", -0.1), ("intro a b", -3.0)])
            .on("a : p ⊢ q → p", &[("intro b", -0.2)])
            .on("b : q ⊢ p", &[("exact a", -0.1)]);
        let statement = "theorem k (p q : Prop) : p → q → p";
        let result = search(backend.as_ref(), &predictor, HEADER, statement, &config()).unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        let seen = outcomes(&result);
        assert!(seen.contains(&(
            1,
            "intro b".into(),
            CandidateOutcome::Duplicate {
                node: 2,
                expanded: false,
                improved: true
            }
        )));
        let steps: Vec<String> = ["intro a", "intro b", "exact a"].map(String::from).to_vec();
        assert_eq!(result.proof, Some(steps));
        assert!((result.score.unwrap() - 0.4).abs() < 1e-9);
        assert_eq!(result.counts.expansions, 3);
        assert_eq!(
            result.trace[2].parent,
            Some(1),
            "the queued node took the cheaper parent"
        );
    }
}
