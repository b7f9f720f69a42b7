//! The editor's open documents as the proxy sees them: `didOpen` gives the text, `didChange`
//! edits it (whole-text or ranged changes, UTF-16 positions), `didClose` forgets it. The
//! suggestion work needs the text at the cursor without asking the editor.

use std::collections::HashMap;

use lsp_types::Position;
use serde_json::Value;

use crate::lean::lsp::text::offset_of;

/// One open document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The editor's version number of this text.
    pub version: i64,
    /// The full text.
    pub text: String,
}

/// Open documents by URI.
#[derive(Default, Debug)]
pub struct Documents {
    docs: HashMap<String, Document>,
}

impl Documents {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The document at `uri`, if open.
    pub fn get(&self, uri: &str) -> Option<&Document> {
        self.docs.get(uri)
    }

    /// Applies a notification from the editor if it is one of the text synchronization ones;
    /// returns whether it was. A change that cannot be applied (a range outside the text)
    /// drops the document, so no suggestion is ever computed on a wrong text.
    pub fn observe(&mut self, method: &str, params: &Value) -> bool {
        let uri = params["textDocument"]["uri"].as_str().map(str::to_string);
        let Some(uri) = uri else {
            return false;
        };
        match method {
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                let version = params["textDocument"]["version"].as_i64().unwrap_or(0);
                self.docs.insert(
                    uri,
                    Document {
                        version,
                        text: text.to_string(),
                    },
                );
                true
            }
            "textDocument/didChange" => {
                let version = params["textDocument"]["version"].as_i64();
                let changes = params["contentChanges"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let Some(doc) = self.docs.get_mut(&uri) else {
                    return true;
                };
                for change in &changes {
                    if !apply_change(&mut doc.text, change) {
                        tracing::warn!(target: "lsp_proxy", uri, "a change outside the text; forgetting the document until it is reopened");
                        self.docs.remove(&uri);
                        return true;
                    }
                }
                if let Some(v) = version {
                    doc.version = v;
                }
                true
            }
            "textDocument/didClose" => {
                self.docs.remove(&uri);
                true
            }
            _ => false,
        }
    }
}

/// Applies one `TextDocumentContentChangeEvent`; false when its range is not in the text.
pub fn apply_change(text: &mut String, change: &Value) -> bool {
    let Some(new_text) = change["text"].as_str() else {
        return false;
    };
    let Some(range) = change.get("range").filter(|r| !r.is_null()) else {
        *text = new_text.to_string();
        return true;
    };
    let pos = |v: &Value| -> Option<Position> {
        Some(Position {
            line: u32::try_from(v["line"].as_u64()?).ok()?,
            character: u32::try_from(v["character"].as_u64()?).ok()?,
        })
    };
    let (Some(start), Some(end)) = (pos(&range["start"]), pos(&range["end"])) else {
        return false;
    };
    let (Some(a), Some(b)) = (offset_of(text, start), offset_of(text, end)) else {
        return false;
    };
    if a > b {
        return false;
    }
    text.replace_range(a..b, new_text);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn open_change_close() {
        let mut docs = Documents::new();
        let uri = "file:///t/A.lean";
        assert!(docs.observe(
            "textDocument/didOpen",
            &json!({"textDocument": {"uri": uri, "version": 1, "languageId": "lean4", "text": "theorem t : p ∧ q := by\n  \n"}})
        ));
        docs.observe(
            "textDocument/didChange",
            &json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
                {"range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 2}}, "text": "exact ⟨hp, hq⟩"},
                {"range": {"start": {"line": 0, "character": 16}, "end": {"line": 0, "character": 17}}, "text": "r"}
            ]}),
        );
        let d = docs.get(uri).unwrap();
        assert_eq!(d.version, 2);
        assert_eq!(d.text, "theorem t : p ∧ r := by\n  exact ⟨hp, hq⟩\n");
        docs.observe(
            "textDocument/didChange",
            &json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": "whole"}]}),
        );
        assert_eq!(docs.get(uri).unwrap().text, "whole");
        docs.observe(
            "textDocument/didClose",
            &json!({"textDocument": {"uri": uri}}),
        );
        assert!(docs.get(uri).is_none());
        assert!(!docs.observe("textDocument/hover", &json!({"textDocument": {"uri": uri}})));
    }

    #[test]
    fn a_change_off_the_text_forgets_the_document() {
        let mut docs = Documents::new();
        let uri = "file:///t/B.lean";
        docs.observe(
            "textDocument/didOpen",
            &json!({"textDocument": {"uri": uri, "version": 1, "text": "a\n"}}),
        );
        docs.observe(
            "textDocument/didChange",
            &json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
                {"range": {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}}, "text": "x"}]}),
        );
        assert!(docs.get(uri).is_none());
    }

    #[test]
    fn a_position_past_u32_is_no_position() {
        // Line 2^32 + 1 cut to 32 bits would be line 1: the edit would land on the wrong line.
        let mut text = "a\nb\n".to_string();
        let change = json!({"range": {"start": {"line": 4_294_967_297u64, "character": 0},
            "end": {"line": 4_294_967_297u64, "character": 0}}, "text": "x"});
        assert!(!apply_change(&mut text, &change));
        assert_eq!(text, "a\nb\n");
    }
}
