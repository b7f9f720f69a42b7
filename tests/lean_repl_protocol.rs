//! Every recorded REPL transcript parses into the protocol types and writes back with no field
//! lost: each answer of `*.expected.out` as a `Response`, each request of `*.in` as a `Request`.

mod common;

use std::path::{Path, PathBuf};

use proofstep::lean::repl::protocol::{split_input, split_output, Request, Response};
use serde_json::Value;

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.to_string_lossy().ends_with(ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_recorded_answer_round_trips_losslessly() {
    let Some(shared) = common::shared_dir("every_recorded_answer_round_trips_losslessly") else {
        return;
    };
    let mut outs = Vec::new();
    files(
        &shared.join("fixtures/repl-transcripts"),
        ".expected.out",
        &mut outs,
    );
    let mut answers = 0;
    let mut shapes = [0usize; 3];
    for path in &outs {
        let text = std::fs::read_to_string(path).unwrap();
        for block in split_output(&text) {
            let original: Value = serde_json::from_str(&block).unwrap();
            let parsed =
                Response::parse(&block).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            match &parsed {
                Response::Command(_) => shapes[0] += 1,
                Response::Tactic(_) => shapes[1] += 1,
                Response::Error(_) => shapes[2] += 1,
            }
            let again = parsed.to_value();
            assert_eq!(
                again,
                original,
                "{}: a field changed or was lost",
                path.display()
            );
            // And the typed value survives a second trip through text.
            let reparsed =
                Response::parse(&serde_json::to_string_pretty(&parsed).unwrap()).unwrap();
            assert_eq!(reparsed, parsed);
            answers += 1;
        }
    }
    assert!(
        outs.len() >= 60,
        "expected the whole transcript set, found {} files",
        outs.len()
    );
    assert!(answers >= 200, "only {answers} answers parsed");
    assert!(
        shapes.iter().all(|&n| n > 0),
        "every response shape occurs: {shapes:?}"
    );
}

#[test]
fn every_recorded_request_round_trips_losslessly() {
    let Some(shared) = common::shared_dir("every_recorded_request_round_trips_losslessly") else {
        return;
    };
    let mut ins = Vec::new();
    files(&shared.join("fixtures/repl-transcripts"), ".in", &mut ins);
    let mut kinds = std::collections::BTreeSet::new();
    let mut requests = 0;
    for path in &ins {
        for block in split_input(&std::fs::read_to_string(path).unwrap()) {
            let original: Value =
                serde_json::from_str(&block).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let request: Request = serde_json::from_value(original.clone()).unwrap();
            kinds.insert(format!("{:?}", std::mem::discriminant(&request)));
            assert_eq!(
                serde_json::to_value(&request).unwrap(),
                original,
                "{}",
                path.display()
            );
            let frame = request.to_frame();
            assert!(
                frame.ends_with("}\n\n") && frame.matches('\n').count() == 2,
                "one line and a blank line: {frame:?}"
            );
            requests += 1;
        }
    }
    assert!(requests >= 200, "only {requests} requests");
    assert_eq!(
        kinds.len(),
        7,
        "all seven request kinds occur in the transcripts"
    );
}
