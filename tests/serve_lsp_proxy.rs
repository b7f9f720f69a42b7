//! `proofstep lsp`: the proxy between a scripted editor and the test world's real `lean
//! --server`. Suggestions come from the search module's `ScriptedPredictor` (a stand-in for a
//! trained model: the test needs to know which steps are right) and are checked by real Lean;
//! applying the first offered edit must leave the theorem proved. Ordinary traffic must pass
//! through byte for byte, and a slow model must never hold it up.

#[path = "lsp/client.rs"]
mod client;
mod common;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{spawn_client, Client};
use proofstep::lean::axioms::AxiomPolicy;
use proofstep::lean::LeanCommand;
use proofstep::model::{Candidate, GenerateOptions, Predictor};
use proofstep::search::ScriptedPredictor;
use proofstep::serve::lsp::documents::apply_change;
use proofstep::serve::lsp::{run_proxy, EngineOptions, ProxyOptions, Suggester};
use serde_json::{json, Value};

const UNFINISHED: &str = "prelude\nimport Mini\n\ntheorem pq (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  \n\ntheorem other (p : Prop) (hp : p) : p := by\n  exact hp\n";
/// The blank line inside `pq`'s proof.
const CURSOR: (u32, u32) = (4, 2);

fn titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| a["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn errors(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d["severity"] == 1 || d["message"].as_str().unwrap_or("").contains("sorry"))
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect()
}

struct TestWorld {
    lean: PathBuf,
    lib: PathBuf,
    dir: tempfile::TempDir,
}

impl TestWorld {
    fn new(test: &str) -> Option<TestWorld> {
        let t = common::test_lean(test)?;
        Some(TestWorld {
            lean: t.lean,
            lib: t.lib,
            dir: tempfile::tempdir().unwrap(),
        })
    }

    /// The test world's library, then the test's own folder (for modules a test compiles).
    fn lean_path(&self) -> String {
        format!("{}:{}", self.lib.display(), self.dir.path().display())
    }

    /// `lean --server` with the test world on LEAN_PATH, as one command line.
    fn server_command(&self) -> Vec<String> {
        vec![
            "env".into(),
            format!("LEAN_PATH={}", self.lean_path()),
            self.lean.display().to_string(),
            "--server".into(),
        ]
    }

    fn checker(&self) -> LeanCommand {
        let mut cmd = LeanCommand::new(&self.lean);
        cmd.env.push(("LEAN_PATH".into(), self.lean_path()));
        cmd.libraries = vec![self.lib.clone(), self.dir.path().to_path_buf()];
        cmd
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = common::write_file(self.dir.path(), name, text);
        url::Url::from_file_path(path).unwrap().to_string()
    }

    /// Starts the proxy in this process on a socket pair; returns the editor's end.
    fn proxy(
        &self,
        predictor: Arc<dyn Predictor>,
        budget: Duration,
    ) -> (Client, std::thread::JoinHandle<Option<i32>>) {
        let options = EngineOptions {
            check_workers: 2,
            ..EngineOptions::default()
        };
        self.proxy_with(predictor, budget, options)
    }

    /// `proxy` with the suggestion engine's options given.
    fn proxy_with(
        &self,
        predictor: Arc<dyn Predictor>,
        budget: Duration,
        options: EngineOptions,
    ) -> (Client, std::thread::JoinHandle<Option<i32>>) {
        let (editor, proxy_end) = UnixStream::pair().unwrap();
        let suggester = Suggester {
            predictor,
            checker: self.checker(),
            options,
        };
        let server = self.server_command();
        let input = proxy_end.try_clone().unwrap();
        let handle = std::thread::spawn(move || {
            run_proxy(
                input,
                proxy_end,
                &server,
                Some(suggester),
                ProxyOptions { budget },
            )
            .unwrap()
        });
        let client = Client::new(editor.try_clone().unwrap(), editor);
        (client, handle)
    }
}

fn scripted() -> ScriptedPredictor {
    ScriptedPredictor::new().on(
        "⊢ p ∧ q",
        &[
            ("sorry", -0.01),
            ("exact hq", -0.1),
            ("constructor", -0.2),
            ("exact ⟨hp, hq⟩", -0.3),
            ("exact ⟨hp, hq⟩ theorem cheat : False := sorry", -0.4),
        ],
    )
}

#[test]
fn checked_suggestions_come_first_and_the_first_edit_proves_the_theorem() {
    let Some(world) =
        TestWorld::new("checked_suggestions_come_first_and_the_first_edit_proves_the_theorem")
    else {
        return;
    };
    let uri = world.file("Unfinished.lean", UNFINISHED);
    let (mut client, proxy) = world.proxy(Arc::new(scripted()), Duration::from_secs(60));
    let init = client.initialize(world.dir.path());
    assert!(
        !init["result"]["capabilities"]["codeActionProvider"].is_null(),
        "code actions are advertised: {init}"
    );
    client.open(&uri, UNFINISHED);
    let before = client.diagnostics(&uri, 1);
    assert!(
        errors(&before)
            .iter()
            .any(|e| e.starts_with("unsolved goals")),
        "the proof starts unfinished: {before:?}"
    );

    let actions = client.code_actions(&uri, CURSOR);
    let ours: Vec<&Value> = actions
        .iter()
        .filter(|a| {
            a["title"]
                .as_str()
                .unwrap_or("")
                .starts_with("Insert next step: ")
        })
        .collect();
    assert_eq!(
        titles(&ours.iter().map(|a| (*a).clone()).collect::<Vec<_>>()),
        vec![
            "Insert next step: exact ⟨hp, hq⟩ (completes the proof)".to_string(),
            "Insert next step: constructor".to_string(),
        ],
        "completing steps first, then valid ones; `exact hq` (fails), `sorry` and the smuggled \
         theorem (refused) are dropped"
    );
    assert_eq!(ours[0]["isPreferred"], true);
    assert!(std::ptr::eq(ours[0], &actions[0]), "our actions come first");

    // Apply the first edit as an editor would, and let Lean judge the new text.
    let edit = &actions[0]["edit"]["changes"][&uri][0];
    let mut text = UNFINISHED.to_string();
    assert!(apply_change(
        &mut text,
        &json!({"range": edit["range"], "text": edit["newText"]})
    ));
    assert!(text.contains("p ∧ q := by\n  exact ⟨hp, hq⟩\n"), "{text}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let after = client.diagnostics(&uri, 2);
    assert_eq!(
        errors(&after),
        Vec::<String>::new(),
        "the theorem is proved"
    );

    // Outside a tactic block the server's own answer comes back without suggestions.
    let header = client.code_actions(&uri, (0, 7));
    assert!(titles(&header)
        .iter()
        .all(|t| !t.starts_with("Insert next step")));

    // The proxy's own goal queries never reach the editor.
    assert!(client.seen.iter().all(|(v, _)| !v["id"]
        .as_str()
        .is_some_and(|s| s.starts_with("proofstep-"))));
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

/// A cursor on a line that is only `sorry` (where a user leaves the proof to fill) gets the
/// steps for the goal the `sorry` closes, each taking its place.
#[test]
fn a_sorry_line_gets_steps_in_its_place() {
    let Some(world) = TestWorld::new("a_sorry_line_gets_steps_in_its_place") else {
        return;
    };
    let doc = UNFINISHED.replace(":= by\n  \n", ":= by\n  sorry\n");
    let uri = world.file("Sorry.lean", &doc);
    let (mut client, proxy) = world.proxy(Arc::new(scripted()), Duration::from_secs(60));
    client.initialize(world.dir.path());
    client.open(&uri, &doc);
    client.diagnostics(&uri, 1);
    let actions = client.code_actions(&uri, (4, 4));
    let first = &actions[0];
    assert_eq!(
        first["title"], "Insert next step: exact ⟨hp, hq⟩ (completes the proof)",
        "{actions:?}"
    );
    let edit = &first["edit"]["changes"][&uri][0];
    let mut text = doc.clone();
    assert!(apply_change(
        &mut text,
        &json!({"range": edit["range"], "text": edit["newText"]})
    ));
    assert!(text.contains("p ∧ q := by\n  exact ⟨hp, hq⟩\n\n"), "{text}");
    assert!(!text.contains("sorry"), "{text}");
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

/// A step that closes every goal through a lemma whose proof is `sorry`, or through a file's own
/// axiom, is offered as a step, never as completing the proof; in an `example` as in a named
/// theorem, and an honest completing step still says so.
#[test]
fn a_step_that_closes_the_goal_through_a_sorry_lemma_does_not_complete_the_proof() {
    let Some(world) = TestWorld::new(
        "a_step_that_closes_the_goal_through_a_sorry_lemma_does_not_complete_the_proof",
    ) else {
        return;
    };
    let text = "prelude\nimport Mini\n\ntheorem helper_false : False := by sorry\n\naxiom cheat : False\n\n\
theorem target (a b : Nat) (h : a = b) : a + 1 = b + 2 := by\n  \n\n\
example (a b : Nat) (h : a = b) : a + 1 = b + 2 := by\n  \n\n\
example (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  \n";
    let uri = world.file("Lemmas.lean", text);
    let predictor = ScriptedPredictor::new()
        .on(
            "⊢ a + 1 = b + 2",
            &[
                ("exact helper_false.elim", -0.1),
                ("exact cheat.elim", -0.2),
            ],
        )
        .on("⊢ p ∧ q", &[("exact ⟨hp, hq⟩", -0.1)]);
    let (mut client, proxy) = world.proxy(Arc::new(predictor), Duration::from_secs(60));
    client.initialize(world.dir.path());
    client.open(&uri, text);
    client.diagnostics(&uri, 1);
    for line in [8, 11] {
        let offered: Vec<String> = titles(&client.code_actions(&uri, (line, 2)))
            .into_iter()
            .filter(|t| t.starts_with("Insert next step"))
            .collect();
        assert_eq!(
            offered,
            [
                "Insert next step: exact helper_false.elim",
                "Insert next step: exact cheat.elim"
            ],
            "line {line}"
        );
    }
    let honest = titles(&client.code_actions(&uri, (14, 2)));
    assert!(
        honest.contains(&"Insert next step: exact ⟨hp, hq⟩ (completes the proof)".to_string()),
        "{honest:?}"
    );
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

/// The editor's "completes the proof" rests on the same doubts as `check`: a document that
/// declares an allowed axiom's name, moves a theorem into another namespace
/// (`with_weak_namespace`) or leaves one open (`namespace N in`) confirms nothing, where the
/// probe at the end had found Mini's own `trivial : True`; nor does one Lean reads otherwise
/// before the declaration, a step in a `def`, or an `example` resting on `sorry` however its
/// later lines read.
#[test]
fn a_document_read_otherwise_than_lean_reads_it_completes_nothing() {
    let Some(world) =
        TestWorld::new("a_document_read_otherwise_than_lean_reads_it_completes_nothing")
    else {
        return;
    };
    let documents = [
        ("Reserved.lean", "prelude\nimport Mini\naxiom Classical.choice : False\ntheorem t : False := by\n  \n", 4, "exact Classical.choice"),
        ("Weak.lean", "prelude\nimport Mini\naxiom bad : False\nwith_weak_namespace N theorem trivial : False := by\n  \n", 4, "exact bad"),
        ("Prefix.lean", "prelude\nimport Mini\naxiom bad : False\nnamespace N in\ntheorem w : True := trivial\ntheorem trivial : False := by\n  \n", 6, "exact bad"),
        // The tenth audit: an axiom named like an allowed one inside a namespace, an invalid
        // escape Lean reads on from otherwise than the splitter, and a cursor in a `def` after
        // a theorem (the probe had asked about that theorem).
        ("Named.lean", "prelude\nimport Mini\nnamespace Bar\naxiom propext : False\ntheorem t : False := by\n  \n", 5, "exact propext"),
        ("Escape.lean", "prelude\nimport Mini\ntheorem cheat : False := sorry\ndef s := \"\\q namespace N -- \"\ntheorem trivial : False := by\n  \n", 5, "exact cheat"),
        ("InDef.lean", "prelude\nimport Mini\ntheorem cheat : False := sorry\ntheorem ok : True := trivial\ndef two_plus_two : (2 : Nat) + 2 = 5 := by\n  \n", 5, "exact cheat.elim"),
        // The eleventh: a parse error inside an earlier theorem after which Lean reads a
        // `namespace` the splitter does not, and an `example` whose copy at the end of the
        // text was elaborated under a later `variable` of the same name.
        ("InProof.lean", "prelude\nimport Mini\ntheorem cheat : False := sorry\ntheorem a : True := by\n  exact ''\"' namespace N -- \"\ntheorem trivial : False := by\n  \n", 6, "exact cheat"),
        ("Example.lean", "prelude\nimport Mini\ntheorem cheat : False := sorry\nexample : False := by\n  \n  variable (cheat : False)\n", 4, "exact cheat"),
        // The twelfth: the same after an "unexpected token" error between theorems.
        ("Unexpected.lean", "prelude\nimport Mini\ntheorem cheat : False := sorry\ndef x : Nat := ) ''\"' namespace N -- \"\ntheorem trivial : False := by\n  \n", 5, "exact cheat"),
        // A reserved name the imports lack, declared as a constructor (not a name the
        // splitter reads): Lean's own answers about it at the end of the copy show it.
        ("Constructor.lean", "prelude\nimport Mini\ninductive Lean where\n  | reduceBool\ntheorem t : True := by\n  \n", 5, "exact trivial"),
    ];
    for (name, text, line, step) in documents {
        let uri = world.file(name, text);
        let predictor = ScriptedPredictor::new()
            .on("⊢ False", &[(step, -0.1)])
            .on("⊢ 2 + 2 = 5", &[(step, -0.1)])
            .on("⊢ True", &[(step, -0.1)]);
        let (mut client, proxy) = world.proxy(Arc::new(predictor), Duration::from_secs(60));
        client.initialize(world.dir.path());
        client.open(&uri, text);
        client.diagnostics(&uri, 1);
        let offered = titles(&client.code_actions(&uri, (line, 2)));
        assert!(
            offered
                .iter()
                .any(|t| t.starts_with(&format!("Insert next step: {step}"))),
            "{name}: the step is offered: {offered:?}"
        );
        assert!(
            !offered.iter().any(|t| t.contains("completes the proof")),
            "{name}: {offered:?}"
        );
        client.finish();
        assert_eq!(proxy.join().unwrap(), Some(0));
    }
}

/// A library rebuilt while the editor runs: "completes the proof" follows the imports as they
/// are now, not as the checker first learned them (which guarded names they declare, a shadow
/// document whose Lean worker holds them).
#[test]
fn a_library_rebuilt_while_the_editor_runs_is_checked_as_it_is_now() {
    let test = "a_library_rebuilt_while_the_editor_runs_is_checked_as_it_is_now";
    let Some(world) = TestWorld::new(test) else {
        return;
    };
    let t = common::test_lean(test).unwrap();
    let extra = |body: &str| {
        let text = format!("prelude\nimport Mini\n{body}");
        common::compile_module(&t, world.dir.path(), "Extra", &text);
    };
    extra("def extra_other : Nat := 0\n");
    let text = "prelude\nimport Mini\nimport Extra\ntheorem t : (2 : Nat) + 2 = 5 := by\n  \n";
    let uri = world.file("Rebuilt.lean", text);
    let step = "exact extra_ax.elim";
    let predictor = ScriptedPredictor::new().on("⊢ 2 + 2 = 5", &[(step, -0.1)]);
    let options = EngineOptions {
        check_workers: 1,
        policy: AxiomPolicy::allowing(["extra_ax"]),
        ..EngineOptions::default()
    };
    let (mut client, proxy) =
        world.proxy_with(Arc::new(predictor), Duration::from_secs(60), options);
    client.initialize(world.dir.path());
    client.open(&uri, text);
    client.diagnostics(&uri, 1);
    let completes = format!("Insert next step: {step} (completes the proof)");
    let mut version: i64 = 1;
    for (body, want) in [
        ("def extra_other : Nat := 0\n", false),
        ("axiom extra_ax : False\n", true),
        ("def extra_other : Nat := 1\n", false),
    ] {
        extra(body);
        // A new version of the document, so the suggestion is not the one cached.
        version += 1;
        let text = format!("{text}{}", "\n".repeat(version as usize));
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        client.diagnostics(&uri, version);
        let offered = titles(&client.code_actions(&uri, (4, 2)));
        assert_eq!(
            offered.contains(&completes),
            want,
            "Extra: {body}: {offered:?}"
        );
    }
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

/// A stand-in model that thinks for a long time before answering like `ScriptedPredictor`.
struct SlowScriptedPredictor {
    inner: ScriptedPredictor,
    delay: Duration,
}

impl Predictor for SlowScriptedPredictor {
    fn generate(
        &self,
        prompts: &[String],
        options: &GenerateOptions,
    ) -> anyhow::Result<Vec<Vec<Candidate>>> {
        std::thread::sleep(self.delay);
        self.inner.generate(prompts, options)
    }
}

/// Suggestions made for a text the editor has changed since are not offered for the new one:
/// a step that completed `True` had been offered as completing `False`.
#[test]
fn suggestions_for_an_older_text_are_not_offered() {
    let Some(world) = TestWorld::new("suggestions_for_an_older_text_are_not_offered") else {
        return;
    };
    let uri = world.file("Changed.lean", UNFINISHED);
    let slow = SlowScriptedPredictor {
        inner: scripted(),
        delay: Duration::from_secs(2),
    };
    let (mut client, proxy) = world.proxy(Arc::new(slow), Duration::from_secs(20));
    client.initialize(world.dir.path());
    client.open(&uri, UNFINISHED);
    client.diagnostics(&uri, 1);
    let pos = json!({"line": CURSOR.0, "character": CURSOR.1});
    let action_id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}}),
    );
    let changed = UNFINISHED.replace("p ∧ q := by", "p ∧ q ∧ False := by");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": changed}]}),
    );
    let (answer, _) = client.response(action_id, Duration::from_secs(60));
    let offered = titles(answer["result"].as_array().map_or(&[][..], |a| a));
    assert!(
        offered.iter().all(|t| !t.starts_with("Insert next step")),
        "{offered:?}"
    );
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

#[test]
fn a_slow_model_never_holds_up_the_editor_and_late_results_come_on_the_next_ask() {
    let Some(world) = TestWorld::new(
        "a_slow_model_never_holds_up_the_editor_and_late_results_come_on_the_next_ask",
    ) else {
        return;
    };
    let uri = world.file("Slow.lean", UNFINISHED);
    let slow = SlowScriptedPredictor {
        inner: scripted(),
        delay: Duration::from_secs(4),
    };
    let budget = Duration::from_millis(400);
    let (mut client, proxy) = world.proxy(Arc::new(slow), budget);
    client.initialize(world.dir.path());
    client.open(&uri, UNFINISHED);
    client.diagnostics(&uri, 1);

    let asked = Instant::now();
    let pos = json!({"line": CURSOR.0, "character": CURSOR.1});
    let action_id = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}}),
    );
    let hover_id = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 9}}),
    );
    client.response(hover_id, Duration::from_secs(10));
    let hover_secs = asked.elapsed().as_secs_f64();
    let (answer, _) = client.response(action_id, Duration::from_secs(10));
    let action_secs = asked.elapsed().as_secs_f64();
    assert!(
        hover_secs < 2.0,
        "hover waited {hover_secs:.2} s behind the model"
    );
    assert!(
        action_secs < 2.5,
        "the code-action answer waited {action_secs:.2} s, past the {budget:?} budget"
    );
    let first = answer["result"].as_array().cloned().unwrap_or_default();
    assert!(titles(&first)
        .iter()
        .all(|t| !t.starts_with("Insert next step")));

    // The work went on; asking again at the same place shows its results at once.
    std::thread::sleep(Duration::from_secs(6));
    let again = Instant::now();
    let second = client.code_actions(&uri, CURSOR);
    assert!(again.elapsed() < Duration::from_secs(2));
    assert_eq!(
        titles(&second)[0],
        "Insert next step: exact ⟨hp, hq⟩ (completes the proof)"
    );
    client.finish();
    assert_eq!(proxy.join().unwrap(), Some(0));
}

/// One scripted session: initialize, open, diagnostics, hover, goal; returns the raw answers.
fn session(client: &mut Client, root: &Path, uri: &str) -> Vec<Vec<u8>> {
    let mut raw = Vec::new();
    let root_uri = url::Url::from_file_path(root).unwrap().to_string();
    let id = client.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
    );
    raw.push(client.response(id, Duration::from_secs(30)).1);
    client.notify("initialized", json!({}));
    client.open(uri, UNFINISHED);
    let diags = client.diagnostics(uri, 1);
    raw.push(serde_json::to_vec(&diags).unwrap());
    let id = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 9}}),
    );
    raw.push(client.response(id, Duration::from_secs(30)).1);
    let id = client.request(
        "$/lean/plainGoal",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 2}}),
    );
    raw.push(client.response(id, Duration::from_secs(30)).1);
    raw
}

#[test]
fn the_binary_passes_ordinary_traffic_through_byte_for_byte() {
    let Some(world) = TestWorld::new("the_binary_passes_ordinary_traffic_through_byte_for_byte")
    else {
        return;
    };
    let uri = world.file("Plain.lean", UNFINISHED);
    let mut direct = Command::new(&world.lean);
    direct.arg("--server").env("LEAN_PATH", &world.lib);
    let (mut client, mut child) = spawn_client(direct);
    let want = session(&mut client, world.dir.path(), &uri);
    client.finish();
    child.wait().unwrap();

    let mut proxied = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    proxied
        .args(["lsp", "--no-model", "--"])
        .arg(&world.lean)
        .arg("--server")
        .env("LEAN_PATH", &world.lib);
    let (mut client, mut child) = spawn_client(proxied);
    let got = session(&mut client, world.dir.path(), &uri);
    client.finish();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the proxy exits as the server did: {status}"
    );

    let names = ["initialize", "diagnostics", "hover", "plainGoal"];
    for ((name, w), g) in names.iter().zip(&want).zip(&got) {
        assert_eq!(
            String::from_utf8_lossy(g),
            String::from_utf8_lossy(w),
            "{name} differs through the proxy"
        );
    }
    assert!(String::from_utf8_lossy(&got[1]).contains("unsolved goals"));
    assert!(String::from_utf8_lossy(&got[2]).contains("contents"));
}

#[test]
fn the_binary_checks_the_also_try_tactics_on_top_of_the_models() {
    let Some(world) = TestWorld::new("the_binary_checks_the_also_try_tactics_on_top_of_the_models")
    else {
        return;
    };
    let model = common::untrained_model(world.dir.path());
    let uri = world.file("AlsoTry.lean", UNFINISHED);
    let mut proxied = Command::new(env!("CARGO_BIN_EXE_proofstep"));
    proxied
        .args(["lsp", "--model"])
        .arg(&model)
        .args(["--max-candidates", "1", "-n", "2", "--max-new-tokens", "4"])
        .args(["--budget-ms", "60000"])
        .args(["--also-try", "exact hq", "--also-try", "exact ⟨hp, hq⟩"])
        .args(["--also-try", "constructor", "--"])
        .arg(&world.lean)
        .arg("--server")
        .env("LEAN_PATH", &world.lib);
    let (mut client, mut child) = spawn_client(proxied);
    // An editor that applies versioned edits: each edit names the version it was made for.
    let versioned = json!({"workspace": {"workspaceEdit": {"documentChanges": true}}});
    client.initialize_with(world.dir.path(), versioned);
    client.open(&uri, UNFINISHED);
    client.diagnostics(&uri, 1);
    let actions = client.code_actions(&uri, CURSOR);
    let ours: Vec<String> = titles(&actions)
        .into_iter()
        .filter(|t| t.starts_with("Insert next step: "))
        .collect();
    let edit = &actions[0]["edit"]["documentChanges"][0];
    assert_eq!(edit["textDocument"]["version"], 1, "{actions:?}");
    assert_eq!(edit["textDocument"]["uri"], uri.as_str(), "{actions:?}");
    client.finish();
    assert!(child.wait().unwrap().success());
    // The untrained model's one checked candidate is gibberish; the listed steps are checked
    // beside it, past --max-candidates 1, and Lean keeps the two that hold.
    assert_eq!(
        ours,
        vec![
            "Insert next step: exact ⟨hp, hq⟩ (completes the proof)".to_string(),
            "Insert next step: constructor".to_string(),
        ],
        "`exact hq` fails on p ∧ q and is dropped"
    );
}
