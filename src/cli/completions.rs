//! `proofstep completions SHELL`: the shell completion script clap_complete writes from the
//! command line's own definition, so it always knows every subcommand and flag.

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;

/// Arguments of `proofstep completions`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Install, e.g.:\n  bash: proofstep completions bash > ~/.local/share/bash-completion/completions/proofstep\n  zsh:  proofstep completions zsh > \"${fpath[1]}/_proofstep\"\n  fish: proofstep completions fish > ~/.config/fish/completions/proofstep.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `command` (the whole `proofstep` command line) to stdout.
pub fn run(args: CompletionsArgs, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    let name = command.get_name().to_string();
    // Written to memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
