//! Checks per second of the file backend (`lean --json` per check) and the server backend
//! (`lean --server`, documents edited in place) on the same test-world theorems, in one run.
//! Two workloads: `verify` (each whole proof re-checked) and `apply` (start, then one tactic
//! at a time, as proof search does). Every answer is checked, so a fast wrong backend fails.
//! Prints one JSON line per measurement and per ratio; see ../README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::backend::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::{LeanCommand, Outcome, ProofBackend};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Theorems {
    header: String,
    theorems: Vec<Theorem>,
}

#[derive(Deserialize)]
struct Theorem {
    statement: String,
    steps: Vec<String>,
}

struct Args {
    lean: PathBuf,
    lean_path: PathBuf,
    theorems: PathBuf,
    rounds: usize,
}

fn parse_args() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        lean: root.join("lean/mini/.toolchain/bin/lean"),
        lean_path: root.join("lean/mini/build"),
        theorems: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("theorems.json"),
        rounds: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--lean" => args.lean = value()?.into(),
            "--lean-path" => args.lean_path = value()?.into(),
            "--theorems" => args.theorems = value()?.into(),
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            _ => {
                return Err(format!(
                    "unknown argument {flag}; use --lean PATH --lean-path DIR --theorems FILE --rounds N"
                ))
            }
        }
    }
    if !args.lean.exists() {
        return Err(format!(
            "{} does not exist; run `bash lean/mini/setup.sh` first",
            args.lean.display()
        ));
    }
    Ok(args)
}

/// One timed pass: how many Lean checks it made and how long they took.
struct Pass {
    checks: usize,
    elapsed: Duration,
}

/// Re-checks every whole proof once; each must be proved.
fn verify_pass(backend: &dyn ProofBackend, set: &Theorems) -> Result<Pass, String> {
    let began = Instant::now();
    for t in &set.theorems {
        let verdict = backend
            .verify(&set.header, &t.statement, &t.steps.join("\n"))
            .map_err(|e| format!("{}: verify {}: {e}", backend.name(), t.statement))?;
        if !verdict.is_proved() {
            return Err(format!(
                "{}: verify {} gave {verdict:?}",
                backend.name(),
                t.statement
            ));
        }
    }
    Ok(Pass {
        checks: set.theorems.len(),
        elapsed: began.elapsed(),
    })
}

/// Starts every theorem and applies its steps one by one; each step but the last must leave
/// goals, the last must prove it.
fn apply_pass(backend: &dyn ProofBackend, set: &Theorems) -> Result<Pass, String> {
    let began = Instant::now();
    let mut checks = 0;
    for t in &set.theorems {
        let fail = |what: String| format!("{}: {}: {what}", backend.name(), t.statement);
        let mut state = backend
            .start(&set.header, &t.statement)
            .map_err(|e| fail(format!("start: {e}")))?;
        checks += 1;
        for (i, step) in t.steps.iter().enumerate() {
            let last = i + 1 == t.steps.len();
            let outcome = backend
                .apply(&state, step)
                .map_err(|e| fail(format!("apply {step:?}: {e}")))?;
            checks += 1;
            state = match (outcome, last) {
                (Outcome::Open(s), false) => s,
                (Outcome::Proved(s), true) => s,
                (other, _) => return Err(fail(format!("apply {step:?} gave {other:?}"))),
            };
        }
    }
    Ok(Pass {
        checks,
        elapsed: began.elapsed(),
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.theorems)
        .map_err(|e| format!("{}: {e}", args.theorems.display()))?;
    let set: Theorems =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.theorems.display()))?;
    let mut cmd = LeanCommand::new(&args.lean);
    cmd.env
        .push(("LEAN_PATH".into(), args.lean_path.display().to_string()));

    let began = Instant::now();
    let file = FileBackend::new(cmd.clone());
    let file_start = began.elapsed();
    let began = Instant::now();
    let server =
        ServerBackend::start(&cmd, ServerBackendOptions::default()).map_err(|e| e.to_string())?;
    let server_start = began.elapsed();
    let began = Instant::now();
    let diag_only = ServerBackendOptions {
        plain_goal: false,
        ..ServerBackendOptions::default()
    };
    let server_diag = ServerBackend::start(&cmd, diag_only).map_err(|e| e.to_string())?;
    let server_diag_start = began.elapsed();
    // Labels: `server` reads goals with `$/lean/plainGoal` (the default), `server-diag` from
    // the "unsolved goals" diagnostics alone.
    let backends: [(&str, &dyn ProofBackend, Duration); 3] = [
        ("file", &file, file_start),
        ("server", &server, server_start),
        ("server-diag", &server_diag, server_diag_start),
    ];

    // Warm-up (not timed): the server's worker loads the imports; the OS caches `lean`.
    for (_, b, _) in &backends {
        verify_pass(*b, &set)?;
    }

    let mut rates = std::collections::BTreeMap::new();
    for mode in ["verify", "apply"] {
        let mut per_backend: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
        let mut checks = vec![0; backends.len()];
        // Rounds alternate between the backends so drift in the machine hits both alike.
        for _ in 0..args.rounds {
            for (k, (_, b, _)) in backends.iter().enumerate() {
                let pass = if mode == "verify" {
                    verify_pass(*b, &set)?
                } else {
                    apply_pass(*b, &set)?
                };
                per_backend[k].push(pass.checks as f64 / pass.elapsed.as_secs_f64());
                checks[k] = pass.checks;
            }
        }
        for (k, (label, _, start)) in backends.iter().enumerate() {
            let rate = median(per_backend[k].clone());
            rates.insert((mode, *label), rate);
            let line = json!({
                "backend": label, "mode": mode, "theorems": set.theorems.len(),
                "checks_per_round": checks[k], "rounds": args.rounds,
                "checks_per_s_median": (rate * 10.0).round() / 10.0,
                "checks_per_s_rounds": per_backend[k].iter().map(|r| (r * 10.0).round() / 10.0).collect::<Vec<_>>(),
                "backend_start_s": (start.as_secs_f64() * 1000.0).round() / 1000.0,
            });
            println!("{line}");
        }
        let ratio =
            |label: &str| (rates[&(mode, label)] / rates[&(mode, "file")] * 10.0).round() / 10.0;
        let line = json!({
            "mode": mode,
            "server_over_file": ratio("server"),
            "server_diag_over_file": ratio("server-diag"),
        });
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("check_speed: {e}");
            ExitCode::FAILURE
        }
    }
}
