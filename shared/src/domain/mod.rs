//! Domain building blocks every service uses.
pub mod country;
pub mod email;
pub mod localized;
pub mod money;
pub mod pagination;
pub mod text;
pub mod web_address;
pub use country::{CountryCode, check_country_code};
pub use email::Email;
pub use localized::{
    InvalidLocale, Locale, LocalizedText, LocalizedTextError, parse_accept_language,
};
pub use money::{Currency, Money, MoneyError};
pub use pagination::{Cursor, Page, PageQuery, PageRequest, PaginationError};
