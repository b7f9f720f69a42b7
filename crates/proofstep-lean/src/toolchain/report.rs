//! What `proofstep doctor` reports: each part of the toolchain (lean, the test world, the Lake
//! project and its Mathlib, lake, elan, the repl) found or missing, with the exact command that
//! fixes what is missing. Discovery itself is the parent module's.

use std::time::Duration;

use serde::Serialize;

use super::{LeanSource, Toolchain, INSTALL_ELAN, SETUP_TEST_WORLD};

impl Toolchain {
    /// The report `proofstep doctor` prints: each part found or missing, with the fix.
    /// Runs `lean --version` to be sure Lean starts.
    pub fn report(&self, timeout: Duration) -> Report {
        let mut parts = Vec::new();
        let version = self.lean_version(timeout);
        let lean_detail = match (&self.lean, &version) {
            (Some((found, source)), Ok(v)) => {
                let how = match source {
                    LeanSource::Lake => "`lake env lean`".to_string(),
                    _ => format!("`{}`", found.path.display()),
                };
                format!("{how} via {}: {v}", found.via)
            }
            (Some((found, _)), Err(e)) => format!(
                "{} via {} does not run: {e}",
                found.path.display(),
                found.via
            ),
            (None, _) => "no `lean` found".into(),
        };
        let usable = version.is_ok();
        parts.push(Part::new(
            "lean",
            usable,
            lean_detail,
            (!usable).then(|| self.lean_fix()),
        ));

        if let Some(world) = &self.test_world {
            parts.push(Part::new(
                "test world",
                world.ready(),
                format!(
                    "{} (lean {}, Mini.olean {})",
                    world.root.display(),
                    if world.lean.is_file() {
                        "installed"
                    } else {
                        "missing"
                    },
                    if world.built { "built" } else { "missing" }
                ),
                (!world.ready()).then(|| format!("from the repository root: `{SETUP_TEST_WORLD}`")),
            ));
        }

        match &self.project {
            Some(p) => {
                parts.push(Part::new(
                    "lake project",
                    true,
                    format!("{} ({})", p.root.display(), p.toolchain),
                    None,
                ));
                let (ok, detail) = match (p.has_mathlib, p.mathlib_built) {
                    (true, true) => (true, "present and built".to_string()),
                    (true, false) => (false, "downloaded but not built".to_string()),
                    (false, _) if p.requires_mathlib => {
                        (false, "required but not downloaded".to_string())
                    }
                    (false, _) => (true, "not required by this project".to_string()),
                };
                parts.push(Part::new(
                    "mathlib",
                    ok,
                    detail,
                    (!ok).then(|| format!("`cd {} && lake exe cache get`", p.root.display())),
                ));
            }
            None => parts.push(Part::new(
                "lake project",
                false,
                "none above this folder (fine for single files and the test world)".into(),
                None,
            )),
        }
        parts.push(match &self.lake {
            Some(l) if !runnable(&l.path) => Part::new(
                "lake",
                false,
                format!("{} via {} does not exist", l.path.display(), l.via),
                Some(format!(
                    "point {} at the `lake` executable, or unset it",
                    l.via
                )),
            ),
            Some(l) => Part::new(
                "lake",
                true,
                format!("{} via {}", l.path.display(), l.via),
                None,
            ),
            None => Part::new(
                "lake",
                false,
                "not found".into(),
                Some(match &self.elan {
                    Some(_) => "`elan default leanprover/lean4:stable`".into(),
                    None => format!("install elan: `{INSTALL_ELAN}`"),
                }),
            ),
        });
        parts.push(match &self.elan {
            Some(e) => Part::new(
                "elan",
                true,
                format!("{} via {}", e.path.display(), e.via),
                None,
            ),
            None => Part::new(
                "elan",
                false,
                "not found".into(),
                Some(format!("`{INSTALL_ELAN}`")),
            ),
        });
        parts.push(match &self.repl {
            Some(r) if !runnable(&r.path) => Part::new(
                "repl",
                false,
                format!("{} via {} does not exist", r.path.display(), r.via),
                Some(format!(
                    "point {} at the built repl (`.lake/build/bin/repl`), or unset it",
                    r.via
                )),
            ),
            Some(r) => Part::new(
                "repl",
                true,
                format!("{} via {}", r.path.display(), r.via),
                None,
            ),
            None => Part::new(
                "repl",
                false,
                "not found (needed only for `--backend repl`)".into(),
                Some(self.repl_fix()),
            ),
        });
        // Parts that are optional never make a toolchain unusable; mark them so.
        for part in &mut parts {
            part.required = part.name == "lean";
        }
        Report {
            usable,
            lean_version: version.ok(),
            lean_command: self.lean_command().ok().map(|c| c.describe()),
            repl_command: self.repl_command().ok().map(|c| c.describe()),
            parts,
        }
    }
}

/// Whether `path` can name a program to run: a file, or a bare name the system looks up on
/// PATH when it is run.
fn runnable(path: &std::path::Path) -> bool {
    path.is_file() || path.components().count() == 1
}

/// One line of the doctor's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    /// What it is about (`lean`, `lake`, `repl`, `mathlib`, ...).
    pub name: String,
    /// Whether it was found and works.
    pub found: bool,
    /// What was found, or what is wrong.
    pub detail: String,
    /// The exact command that fixes it, when something is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Whether proofstep cannot check anything without it.
    pub required: bool,
}

impl Part {
    fn new(name: &str, found: bool, detail: String, fix: Option<String>) -> Part {
        Part {
            name: name.into(),
            found,
            detail,
            fix,
            required: false,
        }
    }
}

/// What `proofstep doctor` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// True when a `lean` was found and runs: `check` and the file backend work.
    pub usable: bool,
    /// `lean --version`'s first line.
    pub lean_version: Option<String>,
    /// How Lean will be run.
    pub lean_command: Option<String>,
    /// How the repl will be run.
    pub repl_command: Option<String>,
    /// Each part, found or missing.
    pub parts: Vec<Part>,
}
