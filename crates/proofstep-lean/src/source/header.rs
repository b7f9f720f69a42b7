//! `HeaderText`: the text before a theorem, shared with the file it comes from.

use std::sync::Arc;

use super::SourceFile;

/// The text before a theorem (its header), kept as a range of the file's one shared text: a
/// file of n theorems holds n headers in the memory of one file, not of n.
#[derive(Clone, Debug)]
pub struct HeaderText {
    text: Arc<str>,
    end: usize,
}

impl HeaderText {
    /// The text before theorem `index` of `file` (its modifiers excluded).
    pub fn of(file: &SourceFile, index: usize) -> Self {
        let end = file
            .theorems
            .get(index)
            .map_or(file.text.len(), |t| t.start_byte);
        HeaderText {
            text: file.text.clone(),
            end,
        }
    }

    /// The first `end` bytes of a shared text (clamped to the text and back to a character
    /// boundary).
    pub fn prefix(text: Arc<str>, end: usize) -> Self {
        let mut end = end.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        HeaderText { text, end }
    }

    /// The whole shared text this header is a prefix of, and where the header ends in it: lets a
    /// reader of many headers (a fingerprint, say) read each shared text once.
    pub fn backing(&self) -> (&Arc<str>, usize) {
        (&self.text, self.end)
    }

    /// The header as text.
    pub fn as_str(&self) -> &str {
        &self.text[..self.end]
    }
}

impl PartialEq for HeaderText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for HeaderText {}

impl PartialEq<str> for HeaderText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for HeaderText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::ops::Deref for HeaderText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for HeaderText {
    fn from(text: String) -> Self {
        let end = text.len();
        HeaderText {
            text: Arc::from(text),
            end,
        }
    }
}

impl From<&str> for HeaderText {
    fn from(text: &str) -> Self {
        HeaderText {
            text: Arc::from(text),
            end: text.len(),
        }
    }
}
