//! Finding Lean: which `lean`, `lake`, repl and libraries to use, and saying exactly how to get
//! whatever is missing.
//!
//! Inputs, strongest first: explicit paths (flags, or the `PROOFSTEP_LEAN`, `PROOFSTEP_LAKE`,
//! `PROOFSTEP_REPL` environment variables, and `LEAN_PATH`); a Lake project found by walking up
//! from the file being checked or the working folder (`lakefile.lean`/`lakefile.toml` beside
//! `lean-toolchain`), used through `lake env`; this project's test world (`lean/mini`, found by
//! walking up for `lean/mini/.toolchain/bin/lean`, with `lean/mini/build` on `LEAN_PATH`); and
//! `lean`/`lake`/`elan` on `PATH` or in `~/.elan/bin`. Files inside the test world always use
//! its `lean`; other files of a Lake project never do (without `lake` there is no Lean for them,
//! and the fix names elan and the project's build commands).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use proofstep_core::process;
use serde::Serialize;

use crate::command::LeanCommand;
use crate::error::LeanError;

mod library;
mod report;
pub use library::{imported_modules, library_stamp};
pub use report::{Part, Report};

/// The command that installs elan, Lean's toolchain manager.
pub const INSTALL_ELAN: &str =
    "curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf | sh";

/// The command that installs this project's test toolchain (run from the repository root).
pub const SETUP_TEST_WORLD: &str = "bash lean/mini/setup.sh";

/// Paths given explicitly (the command line's flags, or the environment variables clap reads
/// for them: `PROOFSTEP_LEAN`, `PROOFSTEP_LAKE`, `PROOFSTEP_REPL`, `LEAN_PATH`); each one wins
/// over discovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The `lean` executable (`PROOFSTEP_LEAN`).
    pub lean: Option<PathBuf>,
    /// The `lake` executable (`PROOFSTEP_LAKE`).
    pub lake: Option<PathBuf>,
    /// The repl executable (`PROOFSTEP_REPL`).
    pub repl: Option<PathBuf>,
    /// Where compiled libraries are (`LEAN_PATH`), for a bare `lean`.
    pub lean_path: Option<String>,
}

/// A Lake project (a folder with a lakefile and a `lean-toolchain`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LakeProject {
    /// The project folder.
    pub root: PathBuf,
    /// The contents of `lean-toolchain` (e.g. `leanprover/lean4:v4.19.0`).
    pub toolchain: String,
    /// Whether the lakefile requires Mathlib.
    pub requires_mathlib: bool,
    /// Whether Mathlib's sources are downloaded (`.lake/packages/mathlib`).
    pub has_mathlib: bool,
    /// Whether Mathlib's compiled files are there (`lake exe cache get` fetched them).
    pub mathlib_built: bool,
    /// Whether the lakefile requires the repl package.
    pub requires_repl: bool,
    /// The built repl inside the project, if any.
    pub repl: Option<PathBuf>,
}

impl LakeProject {
    /// The Lake project `dir` is the root of, if it is one.
    pub fn at(dir: &Path) -> Option<LakeProject> {
        let lakefile = ["lakefile.lean", "lakefile.toml"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())?;
        let toolchain = std::fs::read_to_string(dir.join("lean-toolchain"))
            .ok()?
            .trim()
            .to_string();
        let lakefile = std::fs::read_to_string(lakefile)
            .unwrap_or_default()
            .to_lowercase();
        let packages = dir.join(".lake/packages");
        let mathlib = packages.join("mathlib");
        let mathlib_built = ["Mathlib.olean", "lean/Mathlib.olean"]
            .iter()
            .any(|f| mathlib.join(".lake/build/lib").join(f).is_file());
        let repl = [
            packages.join("REPL/.lake/build/bin/repl"),
            packages.join("repl/.lake/build/bin/repl"),
            dir.join(".lake/build/bin/repl"),
        ]
        .into_iter()
        .find(|p| p.is_file());
        Some(LakeProject {
            root: dir.to_path_buf(),
            toolchain,
            requires_mathlib: lakefile.contains("mathlib"),
            has_mathlib: mathlib.is_dir(),
            mathlib_built,
            requires_repl: lakefile.contains("repl"),
            repl,
        })
    }

    /// The commands that fetch and build what the project requires, joined with `&&`:
    /// `lake exe cache get` (Mathlib's compiled files), `lake build`, `lake build repl`.
    pub fn build_commands(&self) -> String {
        let mut steps = Vec::new();
        if self.requires_mathlib {
            steps.push("lake exe cache get");
        }
        steps.push("lake build");
        if self.requires_repl {
            steps.push("lake build repl");
        }
        steps.join(" && ")
    }

    /// The nearest Lake project at or above `dir`.
    pub fn find(dir: &Path) -> Option<LakeProject> {
        dir.ancestors().find_map(LakeProject::at)
    }
}

/// This repository's test world: the `lean` built by `lean/mini/setup.sh` and its prelude.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestWorld {
    /// `lean/mini`.
    pub root: PathBuf,
    /// `lean/mini/.toolchain/bin/lean`.
    pub lean: PathBuf,
    /// `lean/mini/build`, which holds `Mini.olean` (goes on `LEAN_PATH`).
    pub lib: PathBuf,
    /// Whether `Mini.olean` is built.
    pub built: bool,
}

impl TestWorld {
    /// The test world at or above `dir`: the first ancestor holding
    /// `lean/mini/.toolchain/bin/lean` (or, when none, `lean/mini/setup.sh`, so that doctor can
    /// say to run it).
    pub fn find(dir: &Path) -> Option<TestWorld> {
        let at = |d: &Path| {
            let root = d.join("lean/mini");
            let lib = root.join("build");
            TestWorld {
                lean: root.join(".toolchain/bin/lean"),
                built: lib.join("Mini.olean").is_file(),
                lib,
                root,
            }
        };
        dir.ancestors()
            .map(at)
            .find(|w| w.lean.is_file())
            .or_else(|| {
                dir.ancestors()
                    .map(at)
                    .find(|w| w.root.join("setup.sh").is_file())
            })
    }

    /// Whether the toolchain is installed and the prelude built.
    pub fn ready(&self) -> bool {
        self.lean.is_file() && self.built
    }
}

/// A tool that was found, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Its path.
    pub path: PathBuf,
    /// How it was found (`PROOFSTEP_LEAN`, `PATH`, `~/.elan/bin`, `test world`, ...).
    pub via: String,
}

/// Where `lean` comes from, which decides how it is run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeanSource {
    /// An explicit path (flag or `PROOFSTEP_LEAN`), run as is with `LEAN_PATH` if given.
    Explicit,
    /// `lake env lean` inside the Lake project.
    Lake,
    /// The test world's `lean` with `lean/mini/build` on `LEAN_PATH`.
    TestWorld,
    /// A `lean` on `PATH` or in `~/.elan/bin`, run as is.
    Path,
}

/// Everything discovery found (or did not).
#[derive(Clone, Debug, Serialize)]
pub struct Toolchain {
    /// The folder discovery started from.
    pub start: PathBuf,
    /// The explicit paths it was given.
    #[serde(skip)]
    pub overrides: Overrides,
    /// The Lake project around `start`, if any.
    pub project: Option<LakeProject>,
    /// This repository's test world, if `start` is inside it.
    pub test_world: Option<TestWorld>,
    /// The `lean` to use, and where it comes from.
    pub lean: Option<(Found, LeanSource)>,
    /// The `lake` to use.
    pub lake: Option<Found>,
    /// elan, Lean's toolchain manager.
    pub elan: Option<Found>,
    /// The repl executable.
    pub repl: Option<Found>,
}

/// Finds `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds `name` on `PATH`, then in `~/.elan/bin`.
fn tool(name: &str) -> Option<Found> {
    if let Some(path) = on_path(name) {
        return Some(Found {
            path,
            via: "PATH".into(),
        });
    }
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".elan/bin").join(name);
    is_executable(&path).then(|| Found {
        path,
        via: "~/.elan/bin".into(),
    })
}

fn explicit(path: &Path, via: &str) -> Found {
    Found {
        path: path.to_path_buf(),
        via: via.into(),
    }
}

impl Toolchain {
    /// Discovers the toolchain for work on files in `start` (a file's folder, or the working
    /// folder). The test world is also looked for above the working folder.
    pub fn discover(start: &Path, overrides: &Overrides) -> Toolchain {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let cwd = std::env::current_dir().ok();
        let project =
            LakeProject::find(&start).or_else(|| cwd.as_deref().and_then(LakeProject::find));
        let test_world =
            TestWorld::find(&start).or_else(|| cwd.as_deref().and_then(TestWorld::find));
        let lake = match &overrides.lake {
            Some(p) => Some(explicit(p, "PROOFSTEP_LAKE / --lake")),
            None => tool("lake"),
        };
        let elan = tool("elan");
        // Files of the test world use its `lean` even inside a Lake project around it.
        let ready_world = test_world.as_ref().filter(|w| w.lean.is_file());
        let inside_world = ready_world.is_some_and(|w| start.starts_with(&w.root));
        let lean = if let Some(p) = &overrides.lean {
            Some((explicit(p, "PROOFSTEP_LEAN / --lean"), LeanSource::Explicit))
        } else if let (Some(world), true) = (&ready_world, inside_world) {
            Some((
                Found {
                    path: world.lean.clone(),
                    via: "test world (lean/mini)".into(),
                },
                LeanSource::TestWorld,
            ))
        } else if let (Some(_), Some(lake)) = (&project, &lake) {
            Some((lake.clone(), LeanSource::Lake))
        } else if project.is_some() {
            // A Lake project's files need its own toolchain (`lake env lean`): the test world's
            // `lean` cannot import Mathlib, and a `lean` on PATH may be another version.
            None
        } else if let Some(world) = &ready_world {
            Some((
                Found {
                    path: world.lean.clone(),
                    via: "test world (lean/mini)".into(),
                },
                LeanSource::TestWorld,
            ))
        } else {
            tool("lean").map(|f| (f, LeanSource::Path))
        };
        let repl = match &overrides.repl {
            Some(p) => Some(explicit(p, "PROOFSTEP_REPL / --repl")),
            None => project
                .as_ref()
                .and_then(|p| p.repl.clone())
                .map(|path| Found {
                    path,
                    via: "Lake project".into(),
                })
                .or_else(|| {
                    on_path("repl").map(|path| Found {
                        path,
                        via: "PATH".into(),
                    })
                }),
        };
        Toolchain {
            start,
            overrides: overrides.clone(),
            project,
            test_world,
            lean,
            lake,
            elan,
            repl,
        }
    }

    /// `LEAN_PATH` for a bare `lean`: the given one, plus the test world's library when that
    /// `lean` is the test world's (found, or named explicitly).
    fn lean_path(&self, source: &LeanSource) -> Option<String> {
        let given = self.overrides.lean_path.clone();
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        let world = match (source, &self.test_world, &self.lean) {
            (LeanSource::TestWorld, Some(w), _) => Some(w.lib.display().to_string()),
            // An explicit path to the test world's own `lean` gets its library too.
            (LeanSource::Explicit, Some(w), Some((found, _))) if same(&found.path, &w.lean) => {
                Some(w.lib.display().to_string())
            }
            _ => None,
        };
        match (world, given) {
            // The given path minus what the world's library already is (LEAN_PATH often names it).
            (Some(w), Some(g)) => {
                let rest: Vec<&str> = g
                    .split(':')
                    .filter(|p| !p.is_empty() && !same(Path::new(p), Path::new(&w)))
                    .collect();
                Some(if rest.is_empty() {
                    w
                } else {
                    format!("{w}:{}", rest.join(":"))
                })
            }
            (w, g) => w.or(g),
        }
    }

    /// The command that runs `lean` for this toolchain: `lake env lean` (in the project folder)
    /// in a Lake project, else the `lean` found, with `LEAN_PATH` set. File checking appends
    /// `--json FILE`; the language server appends `--server` (equivalent to `lake serve`'s
    /// workers, with the project's paths).
    pub fn lean_command(&self) -> Result<LeanCommand, LeanError> {
        let (found, source) = self.lean.as_ref().ok_or_else(|| LeanError::Spawn {
            program: "lean".into(),
            reason: format!("no Lean found: {}", self.lean_fix()),
        })?;
        let mut cmd = LeanCommand::new(&found.path);
        match source {
            LeanSource::Lake => {
                cmd = cmd.with_args(["env", "lean"]);
                cmd.cwd = self.project.as_ref().map(|p| p.root.clone());
            }
            LeanSource::TestWorld => {
                if let Some(path) = self.lean_path(source) {
                    cmd.env.push(("LEAN_PATH".into(), path));
                }
                // Not a Lake project's folder: Lean's server would run `lake setup-file` there.
                cmd.cwd = self.test_world.as_ref().map(|w| w.root.clone());
            }
            _ => {
                if let Some(path) = self.lean_path(source) {
                    cmd.env.push(("LEAN_PATH".into(), path));
                }
                cmd.cwd = self.project.as_ref().map(|p| p.root.clone());
            }
        }
        cmd.libraries = self.library_dirs();
        Ok(cmd)
    }

    /// What keeps the Lake project's files from elaborating although `lake env lean` runs:
    /// Mathlib required but not built. None when nothing is known to be missing.
    pub fn project_not_built(&self) -> Option<String> {
        let p = self.project.as_ref()?;
        let lake_lean = matches!(self.lean, Some((_, LeanSource::Lake)));
        (lake_lean && p.requires_mathlib && !p.mathlib_built).then(|| {
            format!(
                "the Lake project {} requires Mathlib, which is not {}: `cd {} && {}`",
                p.root.display(),
                if p.has_mathlib { "built" } else { "downloaded" },
                p.root.display(),
                p.build_commands()
            )
        })
    }

    /// The command for Lean's language server: `lean_command()`, to which the server client
    /// appends `--server`.
    pub fn server_command(&self) -> Result<LeanCommand, LeanError> {
        self.lean_command()
    }

    /// The command that runs the repl: `lake env <repl>` in the project folder, or the repl
    /// alone (with `LEAN_PATH`) outside a Lake project.
    pub fn repl_command(&self) -> Result<LeanCommand, LeanError> {
        let repl = self.repl.as_ref().ok_or_else(|| LeanError::Spawn {
            program: "repl".into(),
            reason: format!("no Lean repl found: {}", self.repl_fix()),
        })?;
        match (&self.project, &self.lake) {
            (Some(project), Some(lake)) if self.overrides.lean.is_none() => {
                let mut cmd = LeanCommand::new(&lake.path)
                    .with_args(["env".to_string(), repl.path.display().to_string()]);
                cmd.cwd = Some(project.root.clone());
                cmd.libraries = self.library_dirs();
                Ok(cmd)
            }
            _ => {
                let mut cmd = LeanCommand::new(&repl.path);
                let source = self.lean.as_ref().map_or(LeanSource::Path, |l| l.1.clone());
                if let Some(path) = self.lean_path(&source) {
                    cmd.env.push(("LEAN_PATH".into(), path));
                }
                cmd.cwd = self.project.as_ref().map(|p| p.root.clone());
                cmd.libraries = self.library_dirs();
                Ok(cmd)
            }
        }
    }

    /// Runs `lean --version` (with a timeout) and returns its first line.
    pub fn lean_version(&self, timeout: Duration) -> Result<String, LeanError> {
        let cmd = self.lean_command()?;
        let mut command = cmd.to_command();
        command
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = process::spawn_group(&mut command).map_err(|e| cmd.spawn_error(e))?;
        let output = process::capture_bounded(child, timeout, None)?;
        let line = output
            .stdout
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        if output.status.success() && line.contains("Lean") {
            Ok(line)
        } else {
            let stderr = &output.stderr;
            Err(LeanError::Spawn {
                program: cmd.program.clone(),
                reason: format!(
                    "`--version` failed ({}): {}",
                    output.status,
                    stderr.lines().last().unwrap_or(line.as_str())
                ),
            })
        }
    }

    /// How to get a working `lean` from here.
    pub fn lean_fix(&self) -> String {
        let in_world = self
            .test_world
            .as_ref()
            .is_some_and(|w| self.start.starts_with(&w.root));
        if let Some(world) = self
            .test_world
            .as_ref()
            .filter(|_| self.project.is_none() || in_world)
        {
            if !world.ready() {
                let repo = world
                    .root
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or(Path::new("."));
                return format!(
                    "install the test toolchain: `cd {} && {SETUP_TEST_WORLD}`",
                    repo.display()
                );
            }
        }
        match (&self.project, &self.elan, &self.lake) {
            (Some(p), Some(_), None) => format!(
                "the Lake project {root} needs its toolchain and `lake`: `cd {root} && elan toolchain install $(cat lean-toolchain) && {}`",
                p.build_commands(),
                root = p.root.display()
            ),
            (Some(p), None, None) => format!(
                "the Lake project {root} needs elan and `lake` (not found): install elan (`{INSTALL_ELAN}`), open a new shell, then `cd {root} && {}`",
                p.build_commands(),
                root = p.root.display()
            ),
            (None, Some(_), _) => "install a toolchain: `elan default leanprover/lean4:stable`".into(),
            _ => format!("install elan: `{INSTALL_ELAN}` (or point PROOFSTEP_LEAN at a `lean`)"),
        }
    }

    /// How to get a working repl from here.
    pub fn repl_fix(&self) -> String {
        match &self.project {
            Some(p) if p.requires_repl => format!("build the repl: `cd {} && lake build repl`", p.root.display()),
            Some(p) => format!(
                "add the repl to the project (in lakefile.lean: `require REPL from git \"https://github.com/leanprover-community/repl\" @ \"<the tag matching {}>\"`), then `cd {} && lake update REPL && lake build repl`; or point PROOFSTEP_REPL at a built repl",
                p.toolchain,
                p.root.display()
            ),
            None => "build the repl per https://github.com/leanprover-community/repl (README: `lake build`) inside a Lake project, then point PROOFSTEP_REPL at `.lake/build/bin/repl`; without it, use `--backend file` or `--backend server`".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_project_is_found_from_a_subfolder_with_its_mathlib_and_repl() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("lakefile.lean"),
            "require mathlib from git \"x\"\nrequire REPL from git \"y\"\n",
        )
        .unwrap();
        std::fs::write(root.join("lean-toolchain"), "leanprover/lean4:v4.19.0\n").unwrap();
        std::fs::create_dir_all(root.join("Foo/Bar")).unwrap();
        let p = LakeProject::find(&root.join("Foo/Bar")).unwrap();
        assert_eq!(p.root, root);
        assert_eq!(p.toolchain, "leanprover/lean4:v4.19.0");
        assert!(p.requires_mathlib && p.requires_repl);
        assert!(!p.has_mathlib && !p.mathlib_built && p.repl.is_none());

        std::fs::create_dir_all(root.join(".lake/packages/mathlib/.lake/build/lib/lean")).unwrap();
        std::fs::write(
            root.join(".lake/packages/mathlib/.lake/build/lib/lean/Mathlib.olean"),
            "",
        )
        .unwrap();
        std::fs::create_dir_all(root.join(".lake/packages/REPL/.lake/build/bin")).unwrap();
        std::fs::write(root.join(".lake/packages/REPL/.lake/build/bin/repl"), "").unwrap();
        let p = LakeProject::at(root).unwrap();
        assert!(p.has_mathlib && p.mathlib_built);
        assert_eq!(
            p.repl,
            Some(root.join(".lake/packages/REPL/.lake/build/bin/repl"))
        );
    }

    #[test]
    fn a_lakefile_without_lean_toolchain_is_no_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lakefile.toml"), "name = \"x\"\n").unwrap();
        assert!(LakeProject::at(dir.path()).is_none());
    }

    #[test]
    fn explicit_lean_wins_and_carries_lean_path() {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            lean: Some("/opt/lean/bin/lean".into()),
            lean_path: Some("/opt/lib".into()),
            ..Overrides::default()
        };
        let t = Toolchain::discover(dir.path(), &overrides);
        let cmd = t.lean_command().unwrap();
        assert_eq!(cmd.program, PathBuf::from("/opt/lean/bin/lean"));
        assert!(cmd.args.is_empty());
        assert_eq!(cmd.env, [("LEAN_PATH".to_string(), "/opt/lib".to_string())]);
        // Where a rebuild of the imports is looked for (`library_stamp`).
        assert_eq!(cmd.libraries, [PathBuf::from("/opt/lib")]);
        let repl = Overrides {
            repl: Some("/opt/repl".into()),
            ..overrides
        };
        let t = Toolchain::discover(dir.path(), &repl);
        assert_eq!(t.repl_command().unwrap().libraries, cmd.libraries);
        assert_eq!(
            t.repl_command().unwrap().program,
            PathBuf::from("/opt/repl")
        );
    }

    #[test]
    fn lake_project_runs_through_lake_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lakefile.toml"), "name = \"x\"\n").unwrap();
        std::fs::write(
            dir.path().join("lean-toolchain"),
            "leanprover/lean4:v4.19.0\n",
        )
        .unwrap();
        let overrides = Overrides {
            lake: Some("/opt/elan/bin/lake".into()),
            repl: Some("/opt/repl".into()),
            ..Overrides::default()
        };
        let t = Toolchain::discover(dir.path(), &overrides);
        let root = dir.path().canonicalize().unwrap();
        let cmd = t.lean_command().unwrap();
        assert_eq!(cmd.program, PathBuf::from("/opt/elan/bin/lake"));
        assert_eq!(cmd.args, ["env", "lean"]);
        assert_eq!(cmd.cwd.as_deref(), Some(root.as_path()));
        let repl = t.repl_command().unwrap();
        assert_eq!(repl.args, ["env", "/opt/repl"]);
        assert_eq!(
            cmd.describe(),
            format!("/opt/elan/bin/lake env lean  (in {})", root.display())
        );
    }
}
