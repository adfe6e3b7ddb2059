//! The order export's CSV format: UTF-8 with a byte-order mark (so spreadsheet
//! programs read Chinese and Uyghur text as UTF-8), RFC 4180 quoting, CRLF line
//! ends, one row per order, newest first.
//!
//! | column | meaning |
//! |---|---|
//! | `number` | the shop's order number, e.g. `1001` |
//! | `placed_at` | when it was placed, RFC 3339 UTC |
//! | `status` | `pending_payment`, `paid`, `partially_fulfilled`, `fulfilled`, … |
//! | `email`, `name` | the buyer's email; the recipient's name |
//! | `country`, `province`, `city` | where it goes |
//! | `currency` | ISO 4217 code of every amount in the row |
//! | `subtotal`, `shipping`, `total`, `refunded` | exact decimals in major units, e.g. `128.50` |
//! | `lines` | how many lines |
//! | `items` | `SKU×quantity` per line, separated by `; ` |
//! | `carriers`, `tracking_numbers` | of each shipment, oldest first, separated by `; ` (the n-th carrier carries the n-th tracking number) |
//!
//! Text cells a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) are written with a leading `'`, so a buyer's
//! name such as `=HYPERLINK(…)` is shown, never run (OWASP "CSV injection").

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "number",
    "placed_at",
    "status",
    "email",
    "name",
    "country",
    "province",
    "city",
    "currency",
    "subtotal",
    "shipping",
    "total",
    "refunded",
    "lines",
    "items",
    "carriers",
    "tracking_numbers",
];

/// The UTF-8 byte-order mark the file starts with.
pub const BOM: &str = "\u{feff}";

/// A cell of text from people (buyers, staff): neutralised if a spreadsheet would
/// read it as a formula ([`caravan_shared::spreadsheet`]).
pub fn text(value: &str) -> String {
    caravan_shared::spreadsheet::neutralised(value).into_owned()
}

/// Appends one record to `out`: each cell quoted when it holds a comma, a quote or
/// a line break, quotes doubled; CRLF at the end.
pub fn write_record<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let cell = cell.as_ref();
        if cell.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_they_must_be() {
        let mut out = String::new();
        write_record(&mut out, &["plain", "a,b", "say \"hi\"", "two\nlines", ""]);
        assert_eq!(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n");
    }
}
