//! Validated identifiers: names that end up in device names, file names and reports.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A short identifier from a scenario (pool names, thin names, step names): ASCII
/// letters, digits, `-` and `_`, 1..=32 characters, starting with a letter. Narrow on
/// purpose: these become parts of dm device and LV names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ident(String);

impl Ident {
    /// Longest identifier accepted.
    pub const MAX_LEN: usize = 32;

    /// Validate `s` as an identifier; the error says what is wrong.
    pub fn new(s: &str) -> Result<Ident, String> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!(
                "`{s}` must be 1 to {} characters long",
                Self::MAX_LEN
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(format!("`{s}` must start with a letter"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "`{s}` contains `{c}`: use letters, digits, `-` and `_` only"
            ));
        }
        Ok(Ident(s.to_owned()))
    }
    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Ident {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Ident::new(&s)
    }
}
impl From<Ident> for String {
    fn from(i: Ident) -> String {
        i.0
    }
}
impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dm-thin device id: 24 bits, as the pool's `create_thin` message takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ThinId(u32);

impl ThinId {
    /// Largest id dm-thin accepts.
    pub const MAX: u32 = (1 << 24) - 1;
    /// Validate a thin device id.
    pub fn new(id: u64) -> Result<ThinId, String> {
        if id > u64::from(Self::MAX) {
            return Err(format!(
                "thin id {id} exceeds dm-thin's 24-bit limit ({})",
                Self::MAX
            ));
        }
        Ok(ThinId(id as u32))
    }
    /// The raw id.
    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<u32> for ThinId {
    type Error = String;
    fn try_from(v: u32) -> Result<Self, String> {
        ThinId::new(u64::from(v))
    }
}
impl From<ThinId> for u32 {
    fn from(t: ThinId) -> u32 {
        t.0
    }
}
impl fmt::Display for ThinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ident_rules() {
        assert!(Ident::new("loop-lvm_1").is_ok());
        assert!(Ident::new("1abc")
            .unwrap_err()
            .contains("start with a letter"));
        assert!(Ident::new("a b").unwrap_err().contains("contains ` `"));
        assert!(Ident::new(&"a".repeat(33)).is_err());
    }
    #[test]
    fn thin_id_is_24_bits() {
        assert!(ThinId::new(16_777_215).is_ok());
        assert!(ThinId::new(16_777_216).unwrap_err().contains("24-bit"));
    }
}
