//! How typed columns are stored: statuses and the rendition format as their text
//! names, a variant's prices as JSON money. The domain types stay free of SQL; their
//! sea-orm traits live here. A row holding a value the code does not know fails to
//! read (the request answers 500 and the cause is logged), rather than passing for
//! some other value.

use crate::domain::media::RenditionFormat;
use crate::domain::{ProductStatus, ReservationStatus};
use caravan_shared::domain::Money;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

caravan_shared::stored_as_text!(
    ProductStatus,
    "product status",
    ProductStatus::parse,
    ProductStatus::as_str
);
caravan_shared::stored_as_text!(
    ReservationStatus,
    "reservation status",
    ReservationStatus::parse,
    ReservationStatus::as_str
);
caravan_shared::stored_as_text!(
    RenditionFormat,
    "rendition format",
    RenditionFormat::from_content_type,
    RenditionFormat::content_type
);

/// Stores `$type` (a newtype of `$inner`) as JSON; reading JSON that is not a
/// `$inner` is an error (`$what` names the value in it).
macro_rules! stored_as_json {
    ($type:ident, $inner:ty, $what:literal) => {
        impl $type {
            /// Reads the stored JSON; an unreadable value is an error, never left out.
            pub fn from_stored(stored: serde_json::Value) -> Result<Self, serde_json::Error> {
                serde_json::from_value::<$inner>(stored).map(Self)
            }

            /// The stored JSON.
            pub fn to_stored(&self) -> serde_json::Value {
                // Money always serialises; the fallback is never taken.
                serde_json::to_value(&self.0).unwrap_or_default()
            }
        }

        impl From<$type> for Value {
            fn from(value: $type) -> Self {
                value.to_stored().into()
            }
        }

        impl TryGetable for $type {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let stored = serde_json::Value::try_get_by(res, index)?;
                $type::from_stored(stored).map_err(|error| {
                    TryGetError::DbErr(DbErr::Type(format!(
                        "column {index:?} holds {} that cannot be read: {error}",
                        $what
                    )))
                })
            }
        }

        impl ValueType for $type {
            fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
                let stored = <serde_json::Value as ValueType>::try_from(value)?;
                $type::from_stored(stored).map_err(|_| ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($type).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::Json
            }

            fn column_type() -> ColumnType {
                ColumnType::JsonBinary
            }
        }

        impl Nullable for $type {
            fn null() -> Value {
                <serde_json::Value as Nullable>::null()
            }
        }
    };
}

/// A variant's `prices` column read as money: `[{amount, currency}]`, the base
/// price first. A price the code cannot read (a currency it does not know, a
/// malformed entry) fails the row: the query answers an error (500, logged), never
/// a variant that silently has no price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices(pub Vec<Money>);

stored_as_json!(Prices, Vec<Money>, "prices");

/// One price stored as JSON `{amount, currency}` (a variant's `compare_at_price`),
/// read as money on the same terms as [`Prices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(pub Money);

stored_as_json!(Price, Money, "a price");
