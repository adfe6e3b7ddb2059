//! Text cells of the CSV files people open in spreadsheet programs. A cell that
//! starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return) would be
//! run by Excel or WPS, so a buyer's name such as `=HYPERLINK(…)` or a product
//! title from an import could act on the computer of whoever opens the export
//! (OWASP "CSV injection"). Exports write such cells with a leading `'`, which
//! spreadsheets show as text; imports take the `'` off again, so a file exported
//! and imported back is unchanged.

use std::borrow::Cow;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as an export writes it: with a leading `'` when a spreadsheet would read
/// it as a formula.
pub fn neutralised(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A cell as an import reads it: the `'` that [`neutralised`] added is taken off.
pub fn restored(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_not_run_and_come_back_unchanged() {
        for formula in ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(formula), format!("'{formula}"));
            assert_eq!(restored(&neutralised(formula)), formula);
        }
        for plain in ["王芳", "a=b", "", "'quoted'", "it's"] {
            assert_eq!(neutralised(plain), plain);
            assert_eq!(restored(plain), plain);
        }
    }
}
