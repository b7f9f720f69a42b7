//! `refine` on the test world's real Lean, the whole-proof model played by `StandInServer`
//! (a scripted OpenAI chat endpoint standing in for a hosted model, which this machine cannot
//! reach) and the step model by `ScriptedPredictor`: a repair that succeeds only because the
//! request carried Lean's error; proofs smuggling `sorry`, a declaration or a foreign axiom,
//! never reported proved; the search from an accepted prefix proving what neither half proves
//! alone.

mod common;

use std::time::Duration;

use common::openai_standin::{Received, StandInReply, StandInServer};
use proofstep::lean::backend::file::FileBackend;
use proofstep::lean::backend::server::{ServerBackend, ServerBackendOptions};
use proofstep::lean::ProofBackend;
use proofstep::refine::{
    refine, ApiKind, ApiModel, ApiOptions, FoundBy, PromptTemplates, RefineConfig, RefineResult,
    RefineStop, ThenSearch, Theorem,
};
use proofstep::search::{search, ScriptedPredictor, SearchConfig};

const HEADER: &str = "prelude\nimport Mini\n";

/// A chat completions answer saying `content`, with token counts.
fn chat_answer(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-standin", "object": "chat.completion", "created": 0, "model": "stand-in",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
    })
    .to_string()
}

/// The user message of a chat request the stand-in received.
fn prompt_of(request: &Received) -> String {
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    body["messages"][0]["content"].as_str().unwrap().to_string()
}

/// A stand-in chat endpoint answering each request's prompt as `reply` says.
fn chat_standin(reply: impl Fn(usize, &str) -> String + Send + Sync + 'static) -> StandInServer {
    StandInServer::start(move |i, request| {
        if request.line.starts_with("GET") {
            return StandInReply::Answer(404, r#"{"error":{"message":"no such route"}}"#.into());
        }
        StandInReply::Answer(200, chat_answer(&reply(i, &prompt_of(request))))
    })
}

fn model(server: &StandInServer) -> ApiModel {
    ApiModel::connect(
        ApiOptions {
            url: server.url(),
            kind: ApiKind::Chat,
            model: Some("stand-in".into()),
            api_key: None,
            temperature: 0.7,
            max_tokens: 512,
            timeout: Duration::from_secs(30),
            retries: 0,
        },
        PromptTemplates::default(),
    )
    .unwrap()
}

fn config(attempts: usize, rounds: usize) -> RefineConfig {
    RefineConfig {
        attempts,
        rounds,
        parallel: 1,
        time_limit: Duration::from_secs(300),
        seed: 0,
    }
}

fn theorem(name: &str, statement: &str) -> Theorem {
    Theorem {
        name: name.into(),
        header: HEADER.into(),
        statement: statement.into(),
    }
}

fn file_backend(test: &str) -> Option<FileBackend> {
    let lean = common::test_lean(test)?;
    Some(FileBackend::new(lean.command()).with_timeout(Duration::from_secs(60)))
}

fn statuses(result: &RefineResult) -> Vec<String> {
    result
        .rounds
        .iter()
        .map(|r| match &r.feedback {
            Some(f) => f.status.clone(),
            None => "proved".to_string(),
        })
        .collect()
}

const SWAP: &str = "theorem swap (p q : Prop) (h : p ∧ q) : q ∧ p";
const SWAP_WRONG: &str = "```lean\nconstructor\n· exact h.left\n· exact h.right\n```";
const SWAP_RIGHT: &str = "```lean\ntheorem swap (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  constructor\n  · exact h.right\n  · exact h.left\n```";

/// Answers the right proof only to a request that carries Lean's complaint about the wrong
/// one: its position, its message, the failed proof and the goals where it stopped.
fn repairs_only_with_feedback(_: usize, prompt: &str) -> String {
    let carries_the_error = prompt.contains("line 2, column")
        && prompt.contains("Type mismatch")
        && prompt.contains("· exact h.left")
        && prompt.contains("⊢ q");
    if carries_the_error {
        SWAP_RIGHT.to_string()
    } else {
        SWAP_WRONG.to_string()
    }
}

#[test]
fn a_wrong_proof_is_repaired_once_the_request_carries_leans_error() {
    let Some(lean) =
        common::test_lean("a_wrong_proof_is_repaired_once_the_request_carries_leans_error")
    else {
        return;
    };
    let server_backend = ServerBackend::start(
        &lean.command(),
        ServerBackendOptions {
            workers: 1,
            ..ServerBackendOptions::default()
        },
    )
    .expect("the Lean server starts");
    let file = FileBackend::new(lean.command()).with_timeout(Duration::from_secs(60));
    let backends: [&dyn ProofBackend; 2] = [&file, &server_backend];
    for backend in backends {
        let server = chat_standin(repairs_only_with_feedback);
        let result = refine(
            backend,
            &model(&server),
            &theorem("swap", SWAP),
            "Lean (version 4.x)",
            &config(1, 2),
            None,
        )
        .unwrap();
        assert!(result.proved, "{}: {result:#?}", backend.name());
        assert_eq!(
            (
                result.outcome.attempt,
                result.outcome.round,
                result.outcome.found_by
            ),
            (Some(1), Some(1), Some(FoundBy::Model))
        );
        assert_eq!(
            result.proof.as_deref(),
            Some("constructor\n· exact h.right\n· exact h.left")
        );
        assert_eq!(result.outcome.model_calls, 2);
        assert_eq!(
            (
                result.outcome.tokens.prompt,
                result.outcome.tokens.completion
            ),
            (200, 20)
        );
        let feedback = result.rounds[0].feedback.as_ref().unwrap();
        assert_eq!(feedback.status, "error");
        assert_eq!((feedback.accepted_steps, feedback.total_steps), (1, 3));
        let requests = server.requests();
        let first = prompt_of(&requests[0]);
        assert!(
            first.contains("Lean (version 4.x)") && first.contains("import Mini"),
            "the first prompt states the Lean version and the header: {first}"
        );
        assert!(!first.contains("Type mismatch"));
    }
}

#[test]
fn without_repairs_the_same_model_never_proves_it() {
    let Some(backend) = file_backend("without_repairs_the_same_model_never_proves_it") else {
        return;
    };
    let server = chat_standin(repairs_only_with_feedback);
    let result = refine(
        &backend,
        &model(&server),
        &theorem("swap", SWAP),
        "Lean 4",
        &config(2, 0),
        None,
    )
    .unwrap();
    assert!(!result.proved, "{result:#?}");
    assert_eq!(result.stop, RefineStop::Exhausted);
    assert_eq!(statuses(&result), ["error", "error"]);
}

#[test]
fn proofs_that_smuggle_sorry_a_declaration_or_a_foreign_axiom_are_never_proved() {
    let Some(backend) =
        file_backend("proofs_that_smuggle_sorry_a_declaration_or_a_foreign_axiom_are_never_proved")
    else {
        return;
    };
    let answers = [
        "```lean\nconstructor\n· exact h.right\n· sorry\n```",
        "```lean\nexact cheat\ntheorem cheat : False := cheat\n```",
        "```lean\naxiom cheat : False\nexact False.elim cheat\n```",
        "```lean\nexact False.elim cheat_ax\n```",
        "```lean\nexact «sorry»\n```",
    ];
    let server = chat_standin(move |i, _| answers[i.min(answers.len() - 1)].to_string());
    let theorem = Theorem {
        name: "swap".into(),
        header: format!("{HEADER}axiom cheat_ax : False\n"),
        statement: SWAP.into(),
    };
    let result = refine(
        &backend,
        &model(&server),
        &theorem,
        "Lean 4",
        &config(1, 4),
        None,
    )
    .unwrap();
    assert!(!result.proved, "{result:#?}");
    assert!(result.proof.is_none());
    assert_eq!(
        statuses(&result),
        ["refused", "refused", "refused", "axiom", "refused"]
    );
    let axiom = result.rounds[3].feedback.as_ref().unwrap();
    assert!(
        axiom.messages.iter().any(|m| m.text.contains("cheat_ax")),
        "the model is told which axiom: {axiom:#?}"
    );
    let refused = result.rounds[1].feedback.as_ref().unwrap();
    assert!(
        refused.messages[0].text.contains("`theorem`"),
        "{refused:#?}"
    );
}

const CHAIN: &str = "theorem chain (p q r : Prop) (hp : p) (hpq : p → q) (hqr : q → r) : r";

#[test]
fn the_search_from_an_accepted_prefix_proves_what_neither_half_proves_alone() {
    let Some(backend) =
        file_backend("the_search_from_an_accepted_prefix_proves_what_neither_half_proves_alone")
    else {
        return;
    };
    // The whole-proof model gets the first two steps right and the last one wrong, always.
    let server = chat_standin(|_, _| "```lean\napply hqr\napply hpq\nexact hq\n```".to_string());
    // The step model knows only how to finish from `⊢ p`.
    let steps = ScriptedPredictor::new().on("⊢ p", &[("exact hp", -0.1)]);
    let search_config = SearchConfig {
        max_expansions: 10,
        time_limit: Duration::from_secs(120),
        ..SearchConfig::default()
    };
    let theorem = theorem("chain", CHAIN);

    let alone = refine(
        &backend,
        &model(&server),
        &theorem,
        "Lean 4",
        &config(1, 1),
        None,
    )
    .unwrap();
    assert!(!alone.proved, "the whole-proof model alone: {alone:#?}");
    let search_alone = search(&backend, &steps, HEADER, CHAIN, &search_config).unwrap();
    assert!(!search_alone.proved, "the search alone: {search_alone:#?}");

    let both = refine(
        &backend,
        &model(&server),
        &theorem,
        "Lean 4",
        &config(1, 1),
        Some(ThenSearch {
            predictor: &steps,
            config: search_config.clone(),
        }),
    )
    .unwrap();
    assert!(both.proved, "{both:#?}");
    assert_eq!(both.outcome.found_by, Some(FoundBy::PrefixSearch));
    assert_eq!(
        both.proof.as_deref(),
        Some("apply hqr\napply hpq\nexact hp")
    );
    let search = both.search.as_ref().unwrap();
    assert_eq!(search.prefix, ["apply hqr", "apply hpq"]);
    assert_eq!(both.rounds[0].feedback.as_ref().unwrap().goals.len(), 1);
    assert!(both.rounds[0].feedback.as_ref().unwrap().goals[0].contains("⊢ p"));
    // The search's proof went through the final check: verify it again to be sure.
    let verdict = backend
        .verify(HEADER, CHAIN, both.proof.as_deref().unwrap())
        .unwrap();
    assert!(verdict.is_proved());
}

#[test]
fn steps_after_the_goals_close_are_dropped_and_the_rest_verified_alone() {
    let Some(backend) =
        file_backend("steps_after_the_goals_close_are_dropped_and_the_rest_verified_alone")
    else {
        return;
    };
    let server = chat_standin(|_, _| "```lean\nexact hp\nexact hp\n```".to_string());
    let theorem = theorem("id", "theorem id' (p : Prop) (hp : p) : p");
    let result = refine(
        &backend,
        &model(&server),
        &theorem,
        "Lean 4",
        &config(1, 2),
        None,
    )
    .unwrap();
    assert!(result.proved, "{result:#?}");
    assert_eq!(result.proof.as_deref(), Some("exact hp"));
    assert_eq!(
        (
            result.outcome.attempt,
            result.outcome.round,
            result.outcome.model_calls
        ),
        (Some(1), Some(0), 1)
    );
}

#[test]
fn a_completions_endpoint_continues_the_prompt_and_stops_at_the_code_block() {
    let Some(backend) =
        file_backend("a_completions_endpoint_continues_the_prompt_and_stops_at_the_code_block")
    else {
        return;
    };
    // A server that ignores stop strings: what follows the block must be cut off here.
    let text =
        "  constructor\n  · exact h.right\n  · exact h.left\n```\n\ntheorem more : True := trivial";
    let server = StandInServer::start(move |_, _| {
        StandInReply::Answer(
            200,
            serde_json::json!({
                "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100}
            })
            .to_string(),
        )
    });
    let model = ApiModel::connect(
        ApiOptions {
            url: format!("http://{}", server.addr),
            kind: ApiKind::Completions,
            model: Some("stand-in".into()),
            api_key: None,
            temperature: 0.0,
            max_tokens: 256,
            timeout: Duration::from_secs(30),
            retries: 0,
        },
        PromptTemplates::default(),
    )
    .unwrap();
    let result = refine(
        &backend,
        &model,
        &theorem("swap", SWAP),
        "Lean 4",
        &config(1, 0),
        None,
    )
    .unwrap();
    assert!(result.proved, "{result:#?}");
    assert_eq!(
        result.proof.as_deref(),
        Some("constructor\n· exact h.right\n· exact h.left")
    );
    let request = &server.requests()[0];
    assert!(
        request.line.starts_with("POST /v1/completions"),
        "{}",
        request.line
    );
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert!(body["prompt"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{SWAP} := by\n")));
    assert!(body["stop"].as_array().unwrap().iter().any(|s| s == "```"));
    assert_eq!(body["temperature"], 0.0);
}

#[test]
fn attempts_in_parallel_report_what_one_after_another_would() {
    let Some(backend) = file_backend("attempts_in_parallel_report_what_one_after_another_would")
    else {
        return;
    };
    // Answers only once three requests are in flight together (so attempts must run at
    // once), and proves the theorem only for the request of attempt 3 (seed 2).
    let arrived = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let server = StandInServer::start(move |_, request| {
        use std::sync::atomic::Ordering;
        arrived.fetch_add(1, Ordering::SeqCst);
        let waiting = std::time::Instant::now();
        while arrived.load(Ordering::SeqCst) < 3 {
            if waiting.elapsed() > Duration::from_secs(20) {
                return StandInReply::Answer(
                    400,
                    r#"{"error":{"message":"the stand-in waited for 3 requests at once"}}"#.into(),
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        let answer = if body["seed"] == 2 {
            SWAP_RIGHT
        } else {
            SWAP_WRONG
        };
        StandInReply::Answer(200, chat_answer(answer))
    });
    let config = RefineConfig {
        parallel: 3,
        ..config(4, 0)
    };
    let result = refine(
        &backend,
        &model(&server),
        &theorem("swap", SWAP),
        "Lean 4",
        &config,
        None,
    )
    .unwrap();
    assert!(result.proved, "{result:#?}");
    assert_eq!(
        (result.outcome.attempt, result.outcome.round),
        (Some(3), Some(0))
    );
    assert_eq!(
        result.outcome.calls_to_proof,
        Some(3),
        "as if one after another"
    );
    assert!(
        (3..=4).contains(&result.outcome.model_calls),
        "{}",
        result.outcome.model_calls
    );
    let attempts: Vec<usize> = result.rounds.iter().map(|r| r.attempt).collect();
    assert_eq!(&attempts[..3], [1, 2, 3], "rounds in attempt order");
}
