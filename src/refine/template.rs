//! The prompts a whole-proof model is sent: two templates, the first request of an attempt
//! and a repair (which carries the failed proof and Lean's messages). The defaults live in
//! `src/refine/prompts/`; a user gives their own files with `--prompt-first` /
//! `--prompt-repair`. A template names what it wants with `{{placeholder}}`; a name it may not
//! use is refused when the file is read, so a typo never reaches a model.

use std::path::Path;

use crate::lean::backend::proof_text;
use crate::refine::model::ProofAsk;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 7] = [
    "lean_version",
    "header",
    "name",
    "statement",
    "failed_proof",
    "errors",
    "goals",
];

const DEFAULT_FIRST: &str = include_str!("prompts/first.txt");
const DEFAULT_REPAIR: &str = include_str!("prompts/repair.txt");

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The file cannot be read.
    #[error("cannot read the prompt template {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file names a placeholder that does not exist, or leaves one unclosed.
    #[error("the prompt template {path} {problem}; the placeholders are {{{{{}}}}}", PLACEHOLDERS.join("}}, {{"))]
    Placeholder {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// One template's text, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
}

impl Template {
    /// Checks `text` (from `origin`, for messages) as a template.
    pub fn parse(text: &str, origin: &str) -> Result<Template, TemplateError> {
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError::Placeholder {
                    path: origin.to_string(),
                    problem: "opens a `{{` it never closes".to_string(),
                });
            };
            let name = after[..close].trim();
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::Placeholder {
                    path: origin.to_string(),
                    problem: format!("uses the unknown placeholder {{{{{name}}}}}"),
                });
            }
            rest = &after[close + 2..];
        }
        Ok(Template {
            text: text.to_string(),
        })
    }

    /// Reads and checks the template in `path`.
    pub fn read(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Template::parse(&text, &path.display().to_string())
    }

    /// Whether the template asks for the placeholder `name` (however it is spaced): the
    /// placeholders `render` would fill.
    pub fn uses(&self, name: &str) -> bool {
        let asked = std::cell::Cell::new(false);
        self.render(|placeholder| {
            asked.set(asked.get() || placeholder == name);
            String::new()
        });
        asked.get()
    }

    /// The template's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text with each placeholder replaced by `value(name)` (in one pass, so a value that
    /// itself holds `{{...}}`, as Lean text may, is left alone).
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.text.len() + 1024);
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").unwrap_or(after.len());
            out.push_str(&value(after[..close].trim()));
            rest = after.get(close + 2..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }
}

/// The two templates of a refine run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplates {
    /// The first request of an attempt.
    pub first: Template,
    /// A repair: the failed proof and Lean's messages.
    pub repair: Template,
}

impl Default for PromptTemplates {
    fn default() -> Self {
        PromptTemplates {
            first: Template::parse(DEFAULT_FIRST, "src/refine/prompts/first.txt")
                .expect("the default first template is valid"),
            repair: Template::parse(DEFAULT_REPAIR, "src/refine/prompts/repair.txt")
                .expect("the default repair template is valid"),
        }
    }
}

impl PromptTemplates {
    /// SHA-256 (hex) of both templates: what a run records, so a rerun with other prompts is
    /// another run.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for t in [&self.first, &self.repair] {
            hash.update((t.text.len() as u64).to_le_bytes());
            hash.update(t.text.as_bytes());
        }
        format!("{:x}", hash.finalize())
    }

    /// The prompt for `ask`: the first template, or the repair template with the failure. The
    /// one rendering of both, for the requests refine sends and the pairs a local model learns.
    pub fn prompt(&self, ask: &ProofAsk<'_>) -> String {
        let template = match ask.repair {
            Some(_) => &self.repair,
            None => &self.first,
        };
        template.render(|name| match name {
            "lean_version" => ask.lean_version.to_string(),
            "header" => ask.theorem.header.trim().to_string(),
            "name" => ask.theorem.name.clone(),
            "statement" => ask.theorem.statement.trim().to_string(),
            "failed_proof" => ask
                .repair
                .map(|r| proof_text(std::slice::from_ref(&r.proof)))
                .unwrap_or_default()
                .trim_end()
                .to_string(),
            "errors" => ask
                .repair
                .map(|r| r.feedback.messages_text())
                .unwrap_or_default(),
            "goals" => ask
                .repair
                .map(|r| r.feedback.goals_text())
                .unwrap_or_default(),
            _ => String::new(),
        })
    }

    /// The defaults, with either replaced by the file given.
    pub fn load(first: Option<&Path>, repair: Option<&Path>) -> Result<Self, TemplateError> {
        let defaults = PromptTemplates::default();
        Ok(PromptTemplates {
            first: first
                .map(Template::read)
                .transpose()?
                .unwrap_or(defaults.first),
            repair: repair
                .map(Template::read)
                .transpose()?
                .unwrap_or(defaults.repair),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_lean_braces_are_left_alone() {
        let t = Template::parse("{{statement}} := by -- {{ name }}\n", "t").unwrap();
        let text = t.render(|name| match name {
            "statement" => "theorem t : {x | x = {{goals}}}".to_string(),
            _ => "t".to_string(),
        });
        assert_eq!(text, "theorem t : {x | x = {{goals}}} := by -- t\n");
    }

    #[test]
    fn uses_sees_a_placeholder_however_it_is_spaced() {
        let t = Template::parse("{{ errors}} and {{goals }}", "t").unwrap();
        assert!(t.uses("errors") && t.uses("goals"));
        assert!(!t.uses("lean_version"));
    }

    #[test]
    fn a_typo_or_an_unclosed_placeholder_is_refused_with_the_list() {
        let err = Template::parse("{{statment}}", "my.txt")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("my.txt") && err.contains("{{statment}}"),
            "{err}"
        );
        assert!(err.contains("{{failed_proof}}"), "{err}");
        let err = Template::parse("{{statement", "my.txt").unwrap_err();
        assert!(err.to_string().contains("never closes"), "{err}");
    }

    #[test]
    fn the_defaults_state_the_lean_version_and_the_header_and_the_repair_carries_the_failure() {
        let d = PromptTemplates::default();
        let first = d.first.render(|n| format!("<{n}>"));
        assert!(first.contains("<lean_version>") && first.contains("<header>"));
        let repair = d.repair.render(|n| format!("<{n}>"));
        for part in ["<failed_proof>", "<errors>", "<goals>", "<statement>"] {
            assert!(repair.contains(part), "{part}");
        }
    }
}
