//! standin-repl: a STAND-IN for leanprover-community/repl, which cannot be built here (it needs
//! a Lean toolchain with its standard library). It answers from recorded transcripts of the real
//! REPL (`*.in` requests, `*.expected.out` answers) with the real framing, so the proofstep
//! client can be tested against real answers, and it misbehaves on demand for fault tests.
//!
//! Matching is by content, not by position: every environment and proof state is identified by
//! the request that made it (recursively), so a client may send the recorded requests in any
//! order, mix transcripts, and branch; ids in answers are renumbered the way the real REPL
//! numbers them (one counter for environments, one for proof states, in order of creation).
//! A request it has no recording for gets a `{"message": "standin-repl: ..."}` answer.
//!
//! Usage: standin-repl <folder or .in file> [--fault hang|die|garbage|slow|grow]
//!        [--on SUBSTRING] [--delay-ms N] [--grow-mb N] [--log FILE]
//! The fault hits every request whose JSON contains SUBSTRING (every request without --on).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use proofstep::lean::repl::protocol::{split_input, split_output};
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Env,
    State,
}

/// Where an id sits in an answer.
#[derive(Clone, Debug)]
enum Slot {
    Top(&'static str),
    Nested(&'static str, usize),
}

/// What an id in a recorded answer is: a newly made object or one the request referred to.
#[derive(Clone, Debug)]
enum Action {
    New(usize),
    Existing(usize),
}

struct Recorded {
    text: String,
    value: Value,
    slots: Vec<(Kind, Slot, u64, Action)>,
}

#[derive(Default)]
struct Index {
    keys: HashMap<String, usize>,
    answers: HashMap<String, Recorded>,
}

impl Index {
    fn intern(&mut self, key: String) -> usize {
        let next = self.keys.len();
        *self.keys.entry(key).or_insert(next)
    }

    fn add_transcript(&mut self, requests: &[String], answers: &[String]) {
        let mut known: HashMap<(Kind, u64), usize> = HashMap::new();
        for (request, answer) in requests.iter().zip(answers) {
            let Ok(request) = serde_json::from_str::<Value>(request) else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<Value>(answer) else {
                continue;
            };
            let canon = canonical(&request, |kind, id| known.get(&(kind, id)).copied());
            let mut slots = Vec::new();
            for (kind, slot, id) in id_slots(&value) {
                let action = match known.get(&(kind, id)) {
                    Some(&key) => Action::Existing(key),
                    None => {
                        let key = self.intern(format!("{canon}#{slot:?}"));
                        known.insert((kind, id), key);
                        Action::New(key)
                    }
                };
                slots.push((kind, slot, id, action));
            }
            self.answers.entry(canon).or_insert(Recorded {
                text: answer.clone(),
                value,
                slots,
            });
        }
    }
}

/// The request as a key: sorted fields, `env`/`proofState` replaced by the identity of what
/// they refer to, `gc` dropped (a memory hint).
fn canonical(request: &Value, lookup: impl Fn(Kind, u64) -> Option<usize>) -> String {
    let Value::Object(obj) = request else {
        return request.to_string();
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    for (k, v) in obj {
        let kind = match k.as_str() {
            "gc" => continue,
            "env" => Some(Kind::Env),
            "proofState" => Some(Kind::State),
            _ => None,
        };
        let text = match (kind, v.as_u64()) {
            (Some(kind), Some(id)) => match lookup(kind, id) {
                Some(key) => format!("@{key}"),
                None => "?unknown".to_string(),
            },
            _ => v.to_string(),
        };
        fields.push((k.clone(), text));
    }
    fields.sort();
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\u{1}")
}

/// Every id an answer carries, in the order the real REPL creates them.
fn id_slots(answer: &Value) -> Vec<(Kind, Slot, u64)> {
    let mut out = Vec::new();
    for list in ["sorries", "tactics"] {
        if let Some(items) = answer.get(list).and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                if let Some(id) = item.get("proofState").and_then(Value::as_u64) {
                    out.push((Kind::State, Slot::Nested(list, i), id));
                }
            }
        }
    }
    if let Some(id) = answer.get("proofState").and_then(Value::as_u64) {
        out.push((Kind::State, Slot::Top("proofState"), id));
    }
    if let Some(id) = answer.get("env").and_then(Value::as_u64) {
        out.push((Kind::Env, Slot::Top("env"), id));
    }
    out
}

fn set_slot(value: &mut Value, slot: &Slot, id: u64) {
    let target = match slot {
        Slot::Top(field) => value.get_mut(*field),
        Slot::Nested(list, i) => value
            .get_mut(*list)
            .and_then(|l| l.get_mut(*i))
            .and_then(|x| x.get_mut("proofState")),
    };
    if let Some(target) = target {
        *target = Value::from(id);
    }
}

/// The objects made so far in this session: live id → identity.
#[derive(Default)]
struct Live {
    envs: Vec<usize>,
    states: Vec<usize>,
}

impl Live {
    fn list(&mut self, kind: Kind) -> &mut Vec<usize> {
        match kind {
            Kind::Env => &mut self.envs,
            Kind::State => &mut self.states,
        }
    }

    fn answer(&mut self, index: &Index, request: &Value) -> String {
        let canon = canonical(request, |kind, id| {
            let list = match kind {
                Kind::Env => &self.envs,
                Kind::State => &self.states,
            };
            list.get(id as usize).copied()
        });
        let Some(recorded) = index.answers.get(&canon) else {
            eprintln!("standin-repl: no recorded answer for {request}");
            let message = format!("standin-repl: no recorded answer for this request: {request}");
            return format!("{}\n\n", serde_json::json!({ "message": message }));
        };
        let mut value = recorded.value.clone();
        let mut same = true;
        let mut new_slots: Vec<&(Kind, Slot, u64, Action)> = recorded.slots.iter().collect();
        new_slots.sort_by_key(|(kind, _, id, _)| (*kind == Kind::Env, *id));
        for (kind, slot, recorded_id, action) in new_slots {
            let live = match action {
                Action::New(key) => {
                    let list = self.list(*kind);
                    list.push(*key);
                    (list.len() - 1) as u64
                }
                Action::Existing(key) => {
                    let field = if *kind == Kind::Env {
                        "env"
                    } else {
                        "proofState"
                    };
                    let referred = request.get(field).and_then(Value::as_u64);
                    let list = self.list(*kind);
                    match referred.filter(|id| list.get(*id as usize) == Some(key)) {
                        Some(id) => id,
                        None => list
                            .iter()
                            .rposition(|k| k == key)
                            .map(|p| p as u64)
                            .unwrap_or(*recorded_id),
                    }
                }
            };
            same &= live == *recorded_id;
            set_slot(&mut value, slot, live);
        }
        if same {
            format!("{}\n", recorded.text)
        } else {
            format!(
                "{}\n\n",
                serde_json::to_string_pretty(&value).expect("JSON values serialize")
            )
        }
    }
}

fn transcripts(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut found = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "in") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

struct Options {
    source: PathBuf,
    fault: Option<String>,
    on: Option<String>,
    delay: Duration,
    grow_mb: usize,
    log: Option<PathBuf>,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut opts = Options {
        source: PathBuf::new(),
        fault: None,
        on: None,
        delay: Duration::from_millis(500),
        grow_mb: 256,
        log: None,
    };
    let mut source = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--fault" => opts.fault = Some(value("--fault")),
            "--on" => opts.on = Some(value("--on")),
            "--delay-ms" => {
                opts.delay = Duration::from_millis(
                    value("--delay-ms")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --delay-ms")),
                )
            }
            "--grow-mb" => {
                opts.grow_mb = value("--grow-mb")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --grow-mb"))
            }
            "--log" => opts.log = Some(PathBuf::from(value("--log"))),
            _ if source.is_none() && !arg.starts_with("--") => source = Some(PathBuf::from(arg)),
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    opts.source = source.unwrap_or_else(|| usage("missing the transcript folder or .in file"));
    if let Some(f) = &opts.fault {
        if !["hang", "die", "garbage", "slow", "grow"].contains(&f.as_str()) {
            usage(&format!("unknown fault {f}"));
        }
    }
    opts
}

fn usage(why: &str) -> ! {
    eprintln!("standin-repl: {why}\nusage: standin-repl <folder or .in file> [--fault hang|die|garbage|slow|grow] [--on SUBSTRING] [--delay-ms N] [--grow-mb N] [--log FILE]");
    std::process::exit(2)
}

/// Reads one request the way the REPL does: lines up to a blank line, trailing whitespace of
/// each removed, joined without separator. None at end of input.
fn read_request(stdin: &mut impl BufRead) -> Option<String> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if stdin.read_line(&mut line).ok()? == 0 {
            return if text.is_empty() { None } else { Some(text) };
        }
        if line.trim().is_empty() {
            if text.is_empty() {
                continue;
            }
            return Some(text);
        }
        text.push_str(line.trim_end());
    }
}

fn main() {
    let opts = options();
    let mut index = Index::default();
    for input in transcripts(&opts.source) {
        let output = input.with_extension("expected.out");
        let (Ok(requests), Ok(answers)) = (
            std::fs::read_to_string(&input),
            std::fs::read_to_string(&output),
        ) else {
            continue;
        };
        index.add_transcript(&split_input(&requests), &split_output(&answers));
    }
    if index.answers.is_empty() {
        usage(&format!(
            "no transcripts with answers under {}",
            opts.source.display()
        ));
    }

    let mut live = Live::default();
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut stdout = std::io::stdout();
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    while let Some(query) = read_request(&mut stdin) {
        if query.starts_with('#') || query.starts_with("--") {
            continue;
        }
        if let Some(log) = &opts.log {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = writeln!(f, "{query}");
            }
        }
        let request: Value = match serde_json::from_str(&query) {
            Ok(v) => v,
            Err(e) => {
                // The real REPL throws on input that is not JSON and exits.
                eprintln!("uncaught exception: {{\"message\": \"Could not parse JSON:\\n{e}\"}}");
                std::process::exit(1);
            }
        };
        let hit = opts
            .fault
            .as_deref()
            .filter(|_| opts.on.as_ref().is_none_or(|s| query.contains(s.as_str())));
        let answer = live.answer(&index, &request);
        match hit {
            Some("hang") => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Some("garbage") => {
                let _ = stdout.write_all(b"this is not JSON: standin-repl garbage mode\n\n");
                let _ = stdout.flush();
                continue;
            }
            Some("die") => {
                let half = answer.len() / 2;
                let cut = (0..=half)
                    .rev()
                    .find(|i| answer.is_char_boundary(*i))
                    .unwrap_or(0);
                let _ = stdout.write_all(&answer.as_bytes()[..cut]);
                let _ = stdout.flush();
                eprintln!("standin-repl: dying mid-answer as asked");
                std::process::exit(3);
            }
            Some("slow") => std::thread::sleep(opts.delay),
            Some("grow") => {
                let mut block = vec![0u8; opts.grow_mb << 20];
                for i in (0..block.len()).step_by(4096) {
                    block[i] = 1;
                }
                hoard.push(block);
            }
            _ => {}
        }
        let _ = stdout.write_all(answer.as_bytes());
        let _ = stdout.flush();
    }
}
