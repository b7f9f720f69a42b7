//! Exit codes: what a script (a CI job, a Slurm array, a shell loop) can tell from how
//! `proofstep` ended without reading its messages. The one mapping from an error to its code
//! lives here ([`Failure::of`]): the library layers fail with typed errors (`LeanError`,
//! `ModelError`, `EvalError`, …), which are recognised wherever they sit in an `anyhow` chain;
//! an error the command line raises by itself is about its arguments (a usage error) unless it
//! says otherwise with [`Failure::error`].

use std::fmt::Write as _;

use proofstep::data::DataError;
use proofstep::eval::EvalError;
use proofstep::extract::ExtractError;
use proofstep::lean::LeanError;
use proofstep::model::ModelError;
use proofstep::openai::RemoteError;
use proofstep::process::ProcessError;
use proofstep::refine::RefineError;
use proofstep::search::SearchError;
use proofstep::serve::ServeError;
use proofstep::train::TrainError;

/// Exit code of a command that ran and whose answer is no: a search that found no proof, a
/// check where not every theorem is proved, an extraction where a file failed, a doctor that
/// found no usable Lean, copies found by `eval overlap`.
pub const ANSWER_NO: u8 = 1;

/// Exit code of an `eval` (or `eval merge`) that wrote its results but holds theorems still
/// to search: Lean or the model server failed on them (`TheoremRecord::retry`), so the run is
/// not complete and its pass rate counts them as not proved; the same command searches them
/// again. Not 0, so that a scheduler's `afterok` does not take the run as done.
pub const UNFINISHED: u8 = 8;

/// Exit code of an interrupted run (a training run after it saved a checkpoint), as shells
/// report SIGINT: the one `proofstep::interrupt` exits with.
pub const INTERRUPTED: u8 = proofstep::interrupt::EXIT_CODE as u8;
/// The status of a command whose stdout was closed before its output ended (`| head`), as a
/// shell reports a process a closed pipe stopped (128 + SIGPIPE).
pub const CLOSED_PIPE: u8 = 141;

/// Why a command failed, one exit code each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The command line cannot work as given: a flag's value, a missing or conflicting flag,
    /// a theorem name the file does not declare (clap's own parse errors exit 2 as well).
    Usage,
    /// No Lean toolchain, or Lean (lean, lake, the repl, the language server) failing to start,
    /// dying, or lacking the imports a header needs.
    Lean,
    /// A model that cannot be loaded, or that fails while generating.
    Model,
    /// A file or folder that cannot be read or written, a download that fails, a port that
    /// cannot be bound.
    Io,
    /// Input that is not what it should be: a dataset, training data, a results file or a
    /// recorded configuration that cannot be read as one, a statement that does not elaborate.
    Data,
    /// Refused to mix runs: another eval is writing `--out`, `--out` holds results of other
    /// settings, or the shards given to `eval merge` come from different runs.
    Conflict,
}

impl Failure {
    /// Every failure, in the order of their codes.
    pub const ALL: [Failure; 6] = [
        Failure::Usage,
        Failure::Lean,
        Failure::Model,
        Failure::Io,
        Failure::Data,
        Failure::Conflict,
    ];

    /// The exit code.
    pub fn code(self) -> u8 {
        match self {
            Failure::Usage => 2,
            Failure::Lean => 3,
            Failure::Model => 4,
            Failure::Io => 5,
            Failure::Data => 6,
            Failure::Conflict => 7,
        }
    }

    /// What the code means, in a few words (for `--help` and the README).
    pub fn meaning(self) -> &'static str {
        match self {
            Failure::Usage => "usage: a flag or argument that cannot work as given",
            Failure::Lean => "Lean: no toolchain, or Lean failing to start, dying, or lacking the imports",
            Failure::Model => "model: a model that cannot be loaded or fails to generate",
            Failure::Io => "I/O: a file that cannot be read or written, a failed download, a port in use",
            Failure::Data => "bad input: a dataset, training data, results or settings file that cannot be read as one",
            Failure::Conflict => "refused to mix runs: --out is being written or holds another run's results; shards of different runs",
        }
    }

    /// An error the command line finds by itself that is not a usage error, ending with this
    /// failure's code.
    pub fn error(self, message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(CliError {
            failure: self,
            message: message.into(),
        })
    }

    /// The failure an error reports: the first link of its chain that says which (a typed
    /// error of the library layers, or one made by [`Failure::error`]); usage when none does.
    pub fn of(err: &anyhow::Error) -> Failure {
        err.chain().find_map(classify).unwrap_or(Failure::Usage)
    }
}

/// What `error:` prints: the error and each cause after it, `: `-separated, as `{:#}` writes
/// them, except a cause whose text the message already holds (an error that names its source
/// in its own text, as most of the library's do, would otherwise print it twice). Control
/// characters but line breaks and tabs are written escaped (`\u{1b}`): an error quotes what
/// servers and files said, and an escape sequence from them must not rewrite the terminal.
pub fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Whether `err` is a write to stdout that a closed pipe refused (`proofstep completions bash |
/// head`): an I/O error with no context on it, as a command's own `writeln!(stdout, …)?` gives
/// (a broken pipe to Lean or a server is always wrapped in a typed error or a context). The
/// command then ends as `println!`'s does ([`super::quiet_broken_pipe`]): quietly, with
/// [`CLOSED_PIPE`].
pub fn is_closed_stdout(err: &anyhow::Error) -> bool {
    err.chain().count() == 1
        && err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// An error the command line raised with [`Failure::error`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct CliError {
    failure: Failure,
    message: String,
}

/// The exit codes, as `--help` lists them.
pub fn help_text() -> String {
    let mut text = String::from("Exit codes:\n");
    let mut line = |code: u8, meaning: &str| {
        let _ = writeln!(text, "  {code:>3}  {meaning}");
    };
    line(0, "success");
    line(
        ANSWER_NO,
        "no proof found (prove, refine), not every theorem proved (check), a file failed (extract), \
         no usable Lean (doctor), copies found (eval overlap)",
    );
    for failure in Failure::ALL {
        line(failure.code(), failure.meaning());
    }
    line(
        UNFINISHED,
        "eval: results written, but Lean or the model server failed on some theorems (the same command searches them again); eval merge: the shards hold such theorems",
    );
    line(
        INTERRUPTED,
        "interrupted by Ctrl-C, SIGTERM or SIGHUP (train saves a checkpoint first; the others stop the Lean processes they started)",
    );
    line(
        CLOSED_PIPE,
        "stdout closed before the output ended (`| head`)",
    );
    text
}

/// The failure one link of an error chain names, if it is an error type that says.
fn classify(link: &(dyn std::error::Error + 'static)) -> Option<Failure> {
    if let Some(e) = link.downcast_ref::<CliError>() {
        return Some(e.failure);
    }
    if link.is::<clap::Error>() {
        return Some(Failure::Usage);
    }
    if let Some(e) = link.downcast_ref::<LeanError>() {
        return Some(lean(e));
    }
    if let Some(e) = link.downcast_ref::<SearchError>() {
        return Some(search(e));
    }
    if let Some(e) = link.downcast_ref::<RefineError>() {
        return Some(refine(e));
    }
    if let Some(e) = link.downcast_ref::<EvalError>() {
        return Some(match e {
            EvalError::Io { .. } => Failure::Io,
            EvalError::Dataset { .. } | EvalError::Corrupt { .. } | EvalError::BadConfig { .. } => {
                Failure::Data
            }
            EvalError::Busy { .. }
            | EvalError::OtherRun { .. }
            | EvalError::Unrecorded { .. }
            | EvalError::Mix { .. }
            | EvalError::SharedSettings { .. } => Failure::Conflict,
            EvalError::SidecarName { .. } => Failure::Usage,
            EvalError::Incomplete(_) => Failure::Data,
            EvalError::Header { .. } | EvalError::LeanFailed { .. } => Failure::Lean,
            EvalError::Search { error, .. } => search(error),
            EvalError::Refine { error, .. } => refine(error),
        });
    }
    if link.is::<ModelError>() || link.is::<candle_core::Error>() {
        return Some(Failure::Model);
    }
    // A server's failure is the model's, as `prove` and `eval` report it (`generate` meets it
    // unwrapped); a flag that cannot work as given is usage.
    if let Some(e) = link.downcast_ref::<RemoteError>() {
        return Some(match e {
            RemoteError::BadUrl { .. }
            | RemoteError::NoApiKey(_)
            | RemoteError::ExtraOverrides(_)
            | RemoteError::WhichModel { .. }
            | RemoteError::Beam => Failure::Usage,
            RemoteError::Unavailable { .. }
            | RemoteError::Refused { .. }
            | RemoteError::BadAnswer { .. }
            | RemoteError::NoLogprobs { .. }
            | RemoteError::CutAfterFailure { .. }
            | RemoteError::NoAnswerInTime { .. }
            | RemoteError::OutOfTime => Failure::Model,
        });
    }
    if let Some(e) = link.downcast_ref::<TrainError>() {
        return Some(train(e));
    }
    if let Some(e) = link.downcast_ref::<DataError>() {
        return Some(data(e));
    }
    if let Some(e) = link.downcast_ref::<ExtractError>() {
        return Some(match e {
            ExtractError::Io { .. } => Failure::Io,
            ExtractError::NoInput(_) => Failure::Usage,
            ExtractError::Lean { source, .. } => lean(source),
        });
    }
    if let Some(e) = link.downcast_ref::<ServeError>() {
        return Some(match e {
            ServeError::Bind { .. } | ServeError::Io { .. } => Failure::Io,
            ServeError::Spawn { .. } => Failure::Lean,
            ServeError::NoChecker(_) => Failure::Usage,
        });
    }
    if let Some(e) = link.downcast_ref::<ProcessError>() {
        return Some(match e {
            ProcessError::Io(_) => Failure::Io,
            ProcessError::Timeout(_) | ProcessError::OutOfMemory { .. } => Failure::Lean,
        });
    }
    if link.is::<std::io::Error>() {
        return Some(Failure::Io);
    }
    if link.is::<serde_json::Error>() {
        return Some(Failure::Data);
    }
    None
}

fn lean(e: &LeanError) -> Failure {
    match e {
        LeanError::Io { .. } => Failure::Io,
        // The theorem given does not elaborate: the input, not Lean, is at fault.
        LeanError::Statement(_) => Failure::Data,
        _ => Failure::Lean,
    }
}

fn search(e: &SearchError) -> Failure {
    match e {
        SearchError::Start(e) | SearchError::Lean(e) => lean(e),
        SearchError::Model(_) => Failure::Model,
    }
}

fn refine(e: &RefineError) -> Failure {
    match e {
        RefineError::Start(e) | RefineError::Lean(e) => lean(e),
        RefineError::Model(_) => Failure::Model,
        RefineError::Search(e) => search(e),
    }
}

fn train(e: &TrainError) -> Failure {
    match e {
        TrainError::Io { .. } => Failure::Io,
        TrainError::Config(_) => Failure::Usage,
        TrainError::Data(e) => data(e),
        TrainError::Checkpoint { .. } => Failure::Data,
        TrainError::Unresumable { source, .. } => train(source),
        TrainError::Tokenizer(_)
        | TrainError::Model(_)
        | TrainError::Candle(_)
        | TrainError::Diverged(..) => Failure::Model,
    }
}

fn data(e: &DataError) -> Failure {
    match e {
        DataError::Io { .. } | DataError::Download { .. } | DataError::Checksum { .. } => {
            Failure::Io
        }
        _ => Failure::Data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_an_error_are_escaped() {
        let err = anyhow::anyhow!("boom \u{1b}[2J\u{7}\r done\n\tnext line");
        assert_eq!(
            message(&err),
            "boom \\u{1b}[2J\\u{7}\\u{d} done\n\tnext line"
        );
    }

    #[test]
    fn only_a_bare_broken_pipe_is_a_closed_stdout() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_closed_stdout(&anyhow::Error::new(pipe())));
        assert!(!is_closed_stdout(
            &anyhow::Error::new(pipe()).context("writing to Lean")
        ));
        assert!(!is_closed_stdout(&anyhow::Error::new(
            std::io::Error::other("disk full")
        )));
    }

    #[test]
    fn the_message_names_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8");
        let err = anyhow::Error::new(EvalError::Io {
            path: "d.jsonl".into(),
            source: io(),
        })
        .context("reading the dataset");
        assert_eq!(
            message(&err),
            "reading the dataset: d.jsonl: not UTF-8",
            "{err:#}"
        );
        let err = anyhow::Error::new(io())
            .context("reading x")
            .context("checking y");
        assert_eq!(message(&err), format!("{err:#}"));
        let err = anyhow::Error::new(ModelError::io("m/a.safetensors", io())).context("loading m");
        assert_eq!(
            message(&err),
            "loading m: m/a.safetensors: not UTF-8 (check that the path exists and is readable/writable)"
        );
    }

    #[test]
    fn a_typed_error_decides_the_code_wherever_it_sits_in_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(io)
            .context("reading x")
            .context("checking y");
        assert_eq!(Failure::of(&err), Failure::Io);

        let lean = LeanError::Spawn {
            program: "lean".into(),
            reason: "not found".into(),
        };
        let err = anyhow::Error::new(SearchError::Start(lean)).context("searching");
        assert_eq!(Failure::of(&err).code(), 3);

        let err: anyhow::Error = ModelError::Config("x".into()).into();
        assert_eq!(Failure::of(&err).code(), 4);
    }

    #[test]
    fn the_outermost_typed_error_wins_over_the_io_error_beneath_it() {
        let io = std::io::Error::other("disk");
        let err: anyhow::Error = ModelError::io("m/config.json", io).into();
        assert_eq!(Failure::of(&err), Failure::Model);
        let err = anyhow::Error::new(TrainError::Data(DataError::BadExample {
            path: "t.jsonl".into(),
            line: 3,
            reason: "x".into(),
        }));
        assert_eq!(Failure::of(&err), Failure::Data);
    }

    #[test]
    fn the_command_lines_own_errors_are_usage_unless_they_say_otherwise() {
        assert_eq!(
            Failure::of(&anyhow::anyhow!("--samples must be at least 1")),
            Failure::Usage
        );
        let err = Failure::Lean.error("no Lean").context("proving");
        assert_eq!(Failure::of(&err).code(), 3);
        assert_eq!(format!("{err:#}"), "proving: no Lean");
    }

    #[test]
    fn every_code_is_distinct_and_listed_in_the_help() {
        let codes: std::collections::BTreeSet<u8> = Failure::ALL.iter().map(|f| f.code()).collect();
        assert_eq!(codes.len(), Failure::ALL.len());
        assert!(!codes.contains(&0) && !codes.contains(&ANSWER_NO) && !codes.contains(&UNFINISHED));
        let help = help_text();
        for f in Failure::ALL {
            assert!(
                help.contains(&format!("{:>3}  {}", f.code(), f.meaning())),
                "{help}"
            );
        }
    }
}
