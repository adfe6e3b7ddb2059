//! Free text and phone numbers as people type them into a form: one rule for every
//! service, with the same sentences when they are refused.

use crate::FieldError;

/// One line of text (a name, a region, a street): trimmed, `min` to `max`
/// characters, no control characters.
pub fn line(raw: &str, field: &str, min: usize, max: usize) -> Result<String, FieldError> {
    checked(raw, field, min, max, |c| c.is_control())
}

/// Text that may run over several lines (a description, a reason, a note): as
/// [`line`], but line breaks and tabs are kept.
pub fn paragraphs(raw: &str, field: &str, min: usize, max: usize) -> Result<String, FieldError> {
    checked(raw, field, min, max, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

/// Optional [`paragraphs`]: absent or blank is `None`.
pub fn optional_paragraphs(
    raw: Option<&str>,
    field: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => paragraphs(value, field, 0, max).map(Some),
    }
}

/// What a phone number may look like, in the words of its refusal.
const PHONE_RULE: &str = "must be a phone number of 5 to 20 digits, e.g. +86 951 555 0100";

/// A phone number: 5 to 20 digits, with an optional leading `+`, spaces and hyphens
/// between them; kept as typed (trimmed).
pub fn phone(raw: &str, field: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shaped = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (i == 0 && c == '+'));
    if shaped && (5..=20).contains(&digits) {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(field, PHONE_RULE))
    }
}

fn checked(
    raw: &str,
    field: &str,
    min: usize,
    max: usize,
    forbidden: impl Fn(char) -> bool,
) -> Result<String, FieldError> {
    let value = raw.trim();
    let length = value.chars().count();
    let refuse = |message: String| Err(FieldError::new(field, message));
    if length < min {
        return refuse(if min == 1 {
            "is required".to_owned()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if length > max {
        return refuse(format!("must be at most {max} characters"));
    }
    if value.chars().any(forbidden) {
        return refuse("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal<T: std::fmt::Debug>(result: Result<T, FieldError>) -> String {
        result.unwrap_err().message
    }

    #[test]
    fn a_line_is_trimmed_counted_in_characters_and_kept_to_one_line() {
        assert_eq!(line("  中宁枸杞  ", "name", 1, 4).unwrap(), "中宁枸杞");
        assert_eq!(refusal(line("   ", "name", 1, 10)), "is required");
        assert_eq!(
            refusal(line("ab", "name", 3, 10)),
            "must be at least 3 characters"
        );
        assert_eq!(
            refusal(line("中宁枸杞合作社", "name", 1, 4)),
            "must be at most 4 characters"
        );
        assert_eq!(
            refusal(line("two\nlines", "name", 1, 20)),
            "must not contain control characters"
        );
        assert_eq!(line("", "district", 0, 10).unwrap(), "");
    }

    #[test]
    fn paragraphs_keep_line_breaks_but_no_other_control_characters() {
        assert_eq!(
            paragraphs("hail\r\n\tin June", "reason", 1, 100).unwrap(),
            "hail\r\n\tin June"
        );
        assert_eq!(
            refusal(paragraphs("bell\u{7}", "reason", 1, 100)),
            "must not contain control characters"
        );
        assert_eq!(optional_paragraphs(Some("  "), "note", 10).unwrap(), None);
        assert_eq!(optional_paragraphs(None, "note", 10).unwrap(), None);
        assert_eq!(
            refusal(optional_paragraphs(Some("much too long"), "note", 5)),
            "must be at most 5 characters"
        );
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus_spaces_and_hyphens() {
        for good in ["+86 951 555 0100", "138-0000-0000", "12345"] {
            assert_eq!(phone(&format!(" {good} "), "phone").unwrap(), good);
        }
        for bad in [
            "call me",
            "12+34567",
            "1234",
            "+1 234 567 890 123 456 789 01",
            "",
        ] {
            assert_eq!(refusal(phone(bad, "phone")), PHONE_RULE, "{bad}");
        }
    }
}
