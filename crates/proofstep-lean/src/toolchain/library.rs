//! Which compiled libraries a header's imports resolve to, as a fingerprint: a results file
//! of an evaluation records it, so results checked against one build of a library (Mathlib
//! before a `lake update`, another build of the test world) are never resumed or merged into
//! a run against another.
//!
//! The fingerprint covers, for each module a header imports, the `.olean` Lean would load (the
//! first one along the search path) and the build traces Lake keeps beside it (which hash
//! everything the module depends on), plus a Lake project's `lake-manifest.json` (the pinned
//! revision of every package). A module built without Lake has no trace, and its `.olean` does
//! not change when a module it imports is rebuilt: its own imports (the `.ilean`'s
//! `directImports`) are covered too, and theirs, as far as the search path reaches. Modules of
//! Lean's own library are covered by Lean's version, which is recorded apart.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::{LeanSource, Toolchain};
use crate::source::tokens;

/// Files Lake writes beside a module's `.olean` that describe its build and its dependencies.
const TRACE_SUFFIXES: &[&str] = &["trace", "olean.hash", "hash"];

/// The modules `header` imports directly, in order: the name after each `import` keyword
/// (`public`, `meta` before it and `all` after it are part of the keyword's syntax), with
/// `«»` quotes dropped.
pub fn imported_modules(header: &str) -> Vec<String> {
    let words = tokens(header);
    let mut modules = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "import" {
            let mut k = i + 1;
            if words.get(k) == Some(&"all") {
                k += 1;
            }
            if let Some(name) = words.get(k) {
                modules.push(name.replace(['«', '»'], ""));
            }
            i = k;
        }
        i += 1;
    }
    modules
}

impl Toolchain {
    /// The folders Lean looks up compiled modules in, for this toolchain: a Lake project's
    /// build folder and its packages' (`lake env` puts them on `LEAN_PATH`), else `LEAN_PATH`
    /// as the bare `lean` gets it.
    pub fn library_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(project) = &self.project {
            dirs.push(project.root.join(".lake/build/lib/lean"));
            if let Ok(packages) = std::fs::read_dir(project.root.join(".lake/packages")) {
                let mut found: Vec<PathBuf> = packages
                    .flatten()
                    .map(|p| p.path().join(".lake/build/lib/lean"))
                    .collect();
                found.sort();
                dirs.extend(found);
            }
        }
        let source = self
            .lean
            .as_ref()
            .map_or(LeanSource::Path, |(_, source)| source.clone());
        if source != LeanSource::Lake {
            if let Some(path) = self.lean_path(&source) {
                dirs.extend(std::env::split_paths(&path));
            }
        }
        dirs
    }

    /// A fingerprint of the compiled modules `headers` import (see the module documentation):
    /// equal for two runs exactly when every imported module resolves to the same files with
    /// the same contents. A module found nowhere counts as missing, not as an error: Lean will
    /// say so when the header is checked.
    pub fn library_fingerprint<'a>(&self, headers: impl IntoIterator<Item = &'a str>) -> String {
        let mut hash = Sha256::new();
        for (module, olean) in reached_modules(&self.library_dirs(), headers) {
            hash.update(module.as_bytes());
            hash.update([0]);
            match olean {
                Some(olean) => {
                    hash_file(&mut hash, &olean);
                    for suffix in TRACE_SUFFIXES {
                        hash_file(&mut hash, &olean.with_extension(suffix));
                    }
                }
                None => hash.update(b"missing"),
            }
        }
        if let Some(project) = &self.project {
            hash_file(&mut hash, &project.root.join("lake-manifest.json"));
        }
        format!("{:x}", hash.finalize())
    }
}

/// A cheap identity of the compiled modules `header` imports, looked up in `dirs`: the same
/// files as `Toolchain::library_fingerprint` covers, each by its length and modification time
/// rather than its contents. A rebuild of any of them changes it, so what a process learned
/// about a header's imports (which guarded names they declare, an environment holding them) is
/// known to be stale. Empty `dirs` give a constant stamp.
pub fn library_stamp(dirs: &[PathBuf], header: &str) -> String {
    if dirs.is_empty() {
        return String::new();
    }
    let mut hash = Sha256::new();
    for (module, olean) in reached_modules(dirs, [header]) {
        hash.update(module.as_bytes());
        hash.update([0]);
        let Some(olean) = olean else {
            hash.update(b"missing");
            continue;
        };
        for path in std::iter::once(olean.clone())
            .chain(TRACE_SUFFIXES.iter().map(|s| olean.with_extension(s)))
        {
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    hash.update(meta.len().to_le_bytes());
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    hash.update(modified.to_le_bytes());
                }
                Err(_) => hash.update(b"absent"),
            }
        }
    }
    format!("{:x}", hash.finalize())
}

/// Every module `headers` import, each with the `.olean` Lean would load (none when found
/// nowhere along `dirs`), following the `.ilean`'s imports of modules built without Lake.
fn reached_modules<'a>(
    dirs: &[PathBuf],
    headers: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, Option<PathBuf>> {
    let mut reached: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
    let mut queue: Vec<String> = headers.into_iter().flat_map(imported_modules).collect();
    while let Some(module) = queue.pop() {
        if reached.contains_key(&module) {
            continue;
        }
        let olean = find_module(dirs, &module);
        if let Some(olean) = &olean {
            // A Lake trace covers what a module depends on as of its own build, so a package's
            // modules end the walk; the project's own are followed anyway, since `lake build
            // Mod.B` rebuilds B without the modules importing it.
            let traced = TRACE_SUFFIXES
                .iter()
                .any(|suffix| olean.with_extension(suffix).is_file());
            let package = olean.to_string_lossy().contains("/.lake/packages/");
            if !traced || !package {
                queue.extend(direct_imports(&olean.with_extension("ilean")));
            }
        }
        reached.insert(module, olean);
    }
    reached
}

/// The modules an `.ilean` file says its module imports (`directImports`: entries whose first
/// element is the module's name); none when the file is absent or unreadable. Read once per
/// version of the file (length and modification time): a stamp is taken at every final check.
fn direct_imports(ilean: &Path) -> Vec<String> {
    type Seen = HashMap<PathBuf, (u64, Option<SystemTime>, Vec<String>)>;
    static READ: Mutex<Option<Seen>> = Mutex::new(None);
    let Ok(meta) = std::fs::metadata(ilean) else {
        return Vec::new();
    };
    let version = (meta.len(), meta.modified().ok());
    let mut read = READ.lock().unwrap_or_else(|p| p.into_inner());
    let read = read.get_or_insert_with(HashMap::new);
    if let Some((len, modified, imports)) = read.get(ilean) {
        if (*len, *modified) == version {
            return imports.clone();
        }
    }
    let imports = read_direct_imports(ilean);
    read.insert(ilean.to_path_buf(), (version.0, version.1, imports.clone()));
    imports
}

/// `direct_imports` read from the file.
fn read_direct_imports(ilean: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(ilean) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    json["directImports"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|entry| entry.get(0).and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `.olean` of `module` in the first of `dirs` that holds one, as Lean searches.
fn find_module(dirs: &[PathBuf], module: &str) -> Option<PathBuf> {
    let relative: PathBuf = module.split('.').collect();
    dirs.iter()
        .map(|d| d.join(&relative).with_extension("olean"))
        .find(|p| p.is_file())
}

/// Adds `path`'s length and contents to `hash` (a marker when it cannot be read).
fn hash_file(hash: &mut Sha256, path: &Path) {
    match std::fs::read(path) {
        Ok(bytes) => {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
        Err(_) => hash.update(b"absent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_as_lean_reads_the_module_header() {
        let header = "/- a comment: import Fake -/\nprelude\nimport Mini\npublic import A.B\nmeta import «C».D\nimport all E\n-- import Gone\nopen Nat\n";
        assert_eq!(imported_modules(header), ["Mini", "A.B", "C.D", "E"]);
        assert!(imported_modules("theorem t : True := trivial\n").is_empty());
    }

    #[test]
    fn the_fingerprint_follows_the_imported_files() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        std::fs::create_dir_all(lib.join("A")).unwrap();
        std::fs::write(lib.join("A/B.olean"), b"one").unwrap();
        let overrides = super::super::Overrides {
            lean_path: Some(lib.display().to_string()),
            ..Default::default()
        };
        let toolchain = Toolchain::discover(dir.path(), &overrides);
        let header = "import A.B\n";
        let first = toolchain.library_fingerprint([header]);
        assert_eq!(first, toolchain.library_fingerprint([header, header]));
        std::fs::write(lib.join("A/B.olean"), b"two").unwrap();
        let changed = toolchain.library_fingerprint([header]);
        assert_ne!(first, changed, "another build of the module");
        std::fs::write(lib.join("A/B.trace"), b"{\"depHash\": 1}").unwrap();
        assert_ne!(
            changed,
            toolchain.library_fingerprint([header]),
            "a dependency rebuilt"
        );
        assert_ne!(
            toolchain.library_fingerprint([header]),
            toolchain.library_fingerprint(["import A.C\n"]),
            "another module"
        );
    }

    /// The stamp follows a rebuild of any module a header reaches: the project's own modules
    /// even when Lake traced them (`lake build Mod.B` leaves `Mod.A` as it was), a package's
    /// only as far as its traced modules.
    #[test]
    fn the_stamp_follows_the_projects_own_modules_past_their_traces() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join(".lake/build/lib/lean");
        let package = dir.path().join(".lake/packages/dep/.lake/build/lib/lean");
        for (lib, a, b) in [(&own, "A", "B"), (&package, "P", "Q")] {
            std::fs::create_dir_all(lib).unwrap();
            std::fs::write(lib.join(format!("{a}.olean")), b"a").unwrap();
            std::fs::write(lib.join(format!("{a}.trace")), b"{}").unwrap();
            let ilean = format!(r#"{{"directImports": [["{b}", false, false, false]]}}"#);
            std::fs::write(lib.join(format!("{a}.ilean")), ilean).unwrap();
            std::fs::write(lib.join(format!("{b}.olean")), b"b").unwrap();
        }
        let dirs = [own.clone(), package.clone()];
        let before = library_stamp(&dirs, "import A\nimport P\n");
        assert_eq!(before, library_stamp(&dirs, "import A\nimport P\n"));
        std::fs::write(package.join("Q.olean"), b"q, rebuilt").unwrap();
        assert_eq!(
            before,
            library_stamp(&dirs, "import A\nimport P\n"),
            "a package's traced module ends the walk"
        );
        std::fs::write(own.join("B.olean"), b"b, rebuilt").unwrap();
        assert_ne!(before, library_stamp(&dirs, "import A\nimport P\n"));
        assert_eq!(library_stamp(&[], "import A\n"), "");
    }

    /// A module built without Lake has no trace, and its `.olean` stays the same when a
    /// module it imports is rebuilt: the fingerprint follows its `.ilean`'s imports.
    #[test]
    fn the_fingerprint_follows_imports_of_imports_without_lake() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(lib.join("A.olean"), b"a").unwrap();
        std::fs::write(
            lib.join("A.ilean"),
            r#"{"directImports": [["B", false, false, false]], "module": "A"}"#,
        )
        .unwrap();
        std::fs::write(lib.join("B.olean"), b"x := 5").unwrap();
        let overrides = super::super::Overrides {
            lean_path: Some(lib.display().to_string()),
            ..Default::default()
        };
        let toolchain = Toolchain::discover(dir.path(), &overrides);
        let before = toolchain.library_fingerprint(["import A\n"]);
        std::fs::write(lib.join("B.olean"), b"x := 6").unwrap();
        assert_ne!(before, toolchain.library_fingerprint(["import A\n"]));
    }
}
