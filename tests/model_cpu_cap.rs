//! `PROOFSTEP_CPU` caps the kernels' instruction sets, through the real binary: a capped run
//! says which set it ran on and proposes the same steps as an uncapped one (so a machine with
//! AVX-512 also runs the AVX2 and scalar kernels end to end), and a mistyped level is a usage
//! error that names the values, not a silent `native`.

use std::path::Path;
use std::process::{Command, Output};

fn proofstep(cpu: &str, args: &[&str]) -> Output {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/testworld-small");
    Command::new(env!("CARGO_BIN_EXE_proofstep"))
        .env("PROOFSTEP_CPU", cpu)
        .args(args)
        .arg("--model")
        .arg(model)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The 4 beams' steps and scores for one goal with `weights`.
fn candidates(cpu: &str, weights: &str) -> Vec<(String, f64)> {
    let goal = "a b : Nat\nh : a = b\n⊢ b + 0 = a";
    let args = [
        "generate",
        "--goal",
        goal,
        "--json",
        "--beam",
        "4",
        "--weights",
        weights,
    ];
    let v = json(&proofstep(cpu, &args));
    let v = &v["candidates"];
    let found: Vec<(String, f64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["text"].as_str().unwrap().into(),
                c["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found.len(), 4, "{v}");
    found
}

/// The same steps in the same order, scores within `tol`.
fn same(a: &[(String, f64)], b: &[(String, f64)], tol: f64) {
    let texts = |c: &[(String, f64)]| c.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    assert_eq!(texts(a), texts(b));
    for ((_, x), (_, y)) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} against {b:?}");
    }
}

fn instruction_set(cpu: &str) -> String {
    let args = [
        "model",
        "speed",
        "--ids",
        "[1, 2, 3]",
        "--mode",
        "greedy",
        "--new-tokens",
        "2",
    ];
    let v = json(&proofstep(cpu, &args));
    v["instruction_set"].as_str().unwrap().to_string()
}

#[test]
fn capped_runs_say_where_they_ran_and_propose_the_same_steps() {
    assert_eq!(instruction_set("scalar"), "scalar");
    let native = candidates("native", "f32");
    same(&candidates("scalar", "f32"), &native, 1e-3);
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c")
    {
        assert_eq!(instruction_set("avx2"), "avx2");
        same(&candidates("avx2", "f32"), &native, 1e-3);
        // The int8 kernels (AMX, VNNI, AVX2) give the same sums: only f32 rounding elsewhere.
        same(
            &candidates("avx2", "q8_0"),
            &candidates("native", "q8_0"),
            1e-4,
        );
    }
}

#[test]
fn a_mistyped_level_is_a_usage_error_that_names_the_levels() {
    let out = proofstep("avx-512", &["generate", "--goal", "⊢ True"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PROOFSTEP_CPU") && err.contains("avx512") && err.contains("native"),
        "{err}"
    );
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_the_cap_module_asks_the_cpu_for_its_instruction_sets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("crates"), &mut files);
    sources(&root.join("src"), &mut files);
    assert!(files.len() > 20, "{files:?}");
    let asking: Vec<_> = files
        .iter()
        .filter(|f| !f.ends_with("kernels/cpu.rs"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains(concat!("is_x86_feature", "_detected!"))
        })
        .collect();
    assert!(
        asking.is_empty(),
        "these ask the CPU directly, past PROOFSTEP_CPU: {asking:?} (use kernels::cpu)"
    );
}
