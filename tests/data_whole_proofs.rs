//! `proofstep data whole-proofs` against real Lean: the first pair of a theorem is byte for byte
//! the prompt `refine --api-kind completions` sends for it (the served model is played by
//! `StandInServer`, a scripted completions endpoint), its answer is the file's proof, and a
//! synthesized repair carries the goals Lean printed before the step that was replaced.

mod common;

use std::path::Path;
use std::process::Command;

use common::openai_standin::{StandInReply, StandInServer};
use serde_json::Value;

fn proofstep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .args(args)
        .current_dir(common::repo_root())
        .env_remove("PROOFSTEP_LEAN")
        .env_remove("LEAN_PATH")
        .output()
        .unwrap()
}

fn ok(run: &std::process::Output) {
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn pairs(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["input"].as_str().unwrap().to_string(),
                v["output"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const FIRST: &str = "-- {{name}}\n{{statement}} := by\n";
const REPAIR: &str = "{{statement}} := by\n{{failed_proof}}\n-- goals:\n{{goals}}\n-- again:\n";

#[test]
fn first_pairs_are_refines_prompts_and_repairs_carry_leans_goals() {
    if common::test_lean("first_pairs_are_refines_prompts_and_repairs_carry_leans_goals").is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = common::write_file(dir.path(), "first.txt", FIRST);
    let repair = common::write_file(dir.path(), "repair.txt", REPAIR);
    let example = common::repo_root().join("lean/mini/Example.lean");
    let extracted = dir.path().join("extracted");
    ok(&proofstep(&[
        "extract",
        example.to_str().unwrap(),
        "--out",
        extracted.to_str().unwrap(),
        "--held-out-percent",
        "0",
    ]));
    let states = extracted.join("random/train.json");
    let out = dir.path().join("whole.jsonl");
    let run = proofstep(&[
        "data",
        "whole-proofs",
        "--input",
        example.to_str().unwrap(),
        "--states",
        states.to_str().unwrap(),
        "--repairs",
        "2",
        "--prompt-first",
        first.to_str().unwrap(),
        "--prompt-repair",
        repair.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    ok(&run);
    let counts: Value = serde_json::from_slice(&run.stdout).unwrap();
    let written = pairs(&out);
    assert_eq!(
        counts["first"].as_u64().unwrap() + counts["repairs"].as_u64().unwrap(),
        written.len() as u64
    );
    assert!(counts["repairs"].as_u64().unwrap() > 0, "{counts}");

    // The first pair of and_swap is what refine asks a completions model for and_swap.
    let (prompt, answer) = written
        .iter()
        .find(|(input, _)| input.starts_with("-- and_swap\n"))
        .expect("a pair for and_swap")
        .clone();
    assert_eq!(
        answer,
        "  constructor\n  · exact h.right\n  · exact h.left<|endoftext|>"
    );
    let server = StandInServer::start(|_, _| {
        StandInReply::Answer(
            200,
            serde_json::json!({"choices": [{"index": 0, "finish_reason": "stop",
                "text": "  constructor\n  · exact h.right\n  · exact h.left"}]})
            .to_string(),
        )
    });
    let url = server.url();
    ok(&proofstep(&[
        "refine",
        "--file",
        "lean/mini/Example.lean",
        "--theorem",
        "and_swap",
        "--api-url",
        &url,
        "--api-model",
        "stand-in",
        "--api-kind",
        "completions",
        "--prompt-first",
        first.to_str().unwrap(),
        "--prompt-repair",
        repair.to_str().unwrap(),
        "--backend",
        "file",
    ]));
    let sent: Value = serde_json::from_str(&server.requests()[0].body).unwrap();
    assert_eq!(sent["prompt"].as_str().unwrap(), prompt);

    // Every repair: a proof that is not the real one, and the goals before one of its steps.
    let traced: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&states).unwrap()).unwrap();
    for (input, output) in written.iter().filter(|(i, _)| i.contains("-- goals:\n")) {
        let (failed, goals) = input.split_once("\n-- goals:\n").unwrap();
        let goals = goals.strip_suffix("\n-- again:\n").unwrap();
        let real = output.strip_suffix("<|endoftext|>").unwrap();
        assert!(
            !failed.ends_with(real),
            "the failed proof is the real one: {input}"
        );
        let before_some_step = traced.iter().any(|t| {
            t["traced_tactics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["state_before"] == goals)
        });
        assert!(before_some_step, "goals Lean never printed: {goals}");
    }
}

#[test]
fn repairs_without_states_or_wanting_errors_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("whole.jsonl");
    let run = proofstep(&[
        "data",
        "whole-proofs",
        "--input",
        "lean/mini/Example.lean",
        "--repairs",
        "1",
        "--lean-version",
        "Lean 4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--states"));
    let run = proofstep(&[
        "data",
        "whole-proofs",
        "--input",
        "lean/mini/Example.lean",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("--lean-version"),
        "the default template states the Lean version"
    );
    assert!(!out.exists(), "nothing is written when refused");
}
