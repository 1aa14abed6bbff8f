//! International names: a name with non-ASCII letters is converted to its ASCII (punycode) form, IDNA 2008 as
//! UTS 46 maps it (the `idna` crate), before either lookup path sees it; the report shows both forms.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{Error, Result};

/// A name given with non-ASCII letters and the ASCII form that was looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IdnName {
    /// The name as given (Unicode).
    pub given: String,
    /// The ASCII form asked (labels with non-ASCII letters as `xn--` punycode).
    pub ascii: String,
}

impl IdnName {
    /// "münchen.example is xn--mnchen-3ya.example": the note a report shows.
    pub fn note(&self) -> String {
        format!(
            "{} is {} (international name, converted to ASCII by IDNA 2008)",
            self.given, self.ascii
        )
    }
}

/// The ASCII form of a name: None when it is ASCII already (then it is asked exactly as given, case kept);
/// a usage error naming the name when it cannot be an international name.
pub fn to_ascii(name: &str) -> Result<Option<IdnName>> {
    if name.is_ascii() {
        return Ok(None);
    }
    // The ASCII characters were checked already (check_host); UTS 46 maps the rest and verifies the lengths.
    let ascii = Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Allow,
            DnsLength::VerifyAllowRootDot,
        )
        .map_err(|_| {
            Error::usage(format!(
                "bad name '{}': not a valid international name (IDNA 2008: letters of one script, no symbols \
                 or disallowed characters, labels of at most 63 bytes once converted)",
                name
            ))
        })?;
    Ok(Some(IdnName {
        given: name.to_string(),
        ascii: ascii.into_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_names_become_punycode() {
        let idn = to_ascii("münchen.example").unwrap().unwrap();
        assert_eq!(idn.ascii, "xn--mnchen-3ya.example");
        assert_eq!(idn.given, "münchen.example");
        assert!(
            idn.note()
                .starts_with("münchen.example is xn--mnchen-3ya.example"),
            "{}",
            idn.note()
        );
        assert_eq!(
            to_ascii("Www.Lab.Test").unwrap(),
            None,
            "ASCII names are asked as given"
        );
        assert_eq!(
            to_ascii("bücher.example.").unwrap().unwrap().ascii,
            "xn--bcher-kva.example."
        );
    }

    #[test]
    fn names_idna_refuses_are_usage_errors() {
        let err = to_ascii("\u{0301}ab.example").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("not a valid international name"),
            "{err}"
        );
        let long = format!("{}.example", "ü".repeat(70));
        assert_eq!(to_ascii(&long).unwrap_err().exit_code(), 2);
    }
}
