//! Keyset pagination: a page size, an opaque cursor, and a page of results.
//!
//! Listings sort by a unique key such as `(created_at, id)` or a UUIDv7 id and continue
//! "after the last item seen" instead of using offsets, so pages stay stable while rows are
//! inserted and deep pages cost no more than the first. The cursor carries that key; clients
//! treat it as an opaque string.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Page size when the client does not ask for one.
pub const DEFAULT_LIMIT: u32 = 20;

/// Largest page size served; asking for more is refused.
pub const MAX_LIMIT: u32 = 100;

/// Pagination query parameters as a client sends them: `?limit=20&cursor=…`.
///
/// Turn it into a [`PageRequest`] with [`PageRequest::from_query`] before use.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return: 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// Opaque cursor from the `next_cursor` of the previous page; omit it for the first page.
    #[param(
        min_length = 1,
        pattern = "^[A-Za-z0-9_-]+$",
        example = "WyIwMTkzYjBhMi00YzEwLTdkMmUtOWYzYS00YjVjNmQ3ZThmOTAiXQ"
    )]
    pub cursor: Option<String>,
}

/// A validated request for one page: a limit between 1 and [`MAX_LIMIT`] and, after the
/// first page, the cursor to continue from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    cursor: Option<Cursor>,
}

impl PageRequest {
    /// Validates query parameters: no limit means [`DEFAULT_LIMIT`], a limit must be 1 to
    /// [`MAX_LIMIT`], and a cursor must be one this API could have issued.
    pub fn from_query(query: PageQuery) -> Result<Self, PaginationError> {
        let limit = match query.limit {
            None => DEFAULT_LIMIT,
            Some(limit @ 1..=MAX_LIMIT) => limit,
            Some(_) => return Err(PaginationError::LimitOutOfRange),
        };
        let cursor = query.cursor.map(Cursor::parse).transpose()?;
        Ok(Self { limit, cursor })
    }

    /// How many items the page holds at most.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many rows to fetch: one more than the limit, so [`Page::from_rows`] can tell
    /// whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        u64::from(self.limit) + 1
    }

    /// The cursor to continue from; `None` for the first page.
    pub fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }

    /// The sort key to continue after, decoded from the cursor; `None` for the first page.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, PaginationError> {
        self.cursor.as_ref().map(Cursor::decode).transpose()
    }
}

impl Default for PageRequest {
    /// The first page at the default size.
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// Where the next page starts: the sort key of the last item already served, as URL-safe
/// base64 (no padding) of its JSON.
///
/// Not signed or encrypted: the key only repeats values the client has already seen, and
/// every query still applies its own tenant and visibility filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor text for a sort key, e.g. `(created_at, id)` of the last item on a page.
    pub fn encode<K: Serialize>(key: &K) -> String {
        // Sort keys (numbers, strings, timestamps, UUIDs, tuples of them) always serialise.
        // Should a key type ever fail, the empty cursor is rejected on the next request,
        // which is better than a panic while serving this one.
        let json = serde_json::to_vec(key).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Accepts cursor text from a client if it decodes to JSON; the key's type is checked
    /// later by [`Cursor::decode`].
    pub fn parse(raw: impl Into<String>) -> Result<Self, PaginationError> {
        let cursor = Self(raw.into());
        cursor.decode::<IgnoredAny>()?;
        Ok(cursor)
    }

    /// The cursor text as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sort key this cursor holds.
    pub fn decode<K: DeserializeOwned>(&self) -> Result<K, PaginationError> {
        let json = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| PaginationError::InvalidCursor)?;
        serde_json::from_slice(&json).map_err(|_| PaginationError::InvalidCursor)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = Self::schema_example)]
pub struct Page<T> {
    /// The items on this page, in the listing's order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// The documented example of a page of `T`: `T`'s own example as the one item,
    /// with a cursor after its `id`, so each `Page_…` schema shows its real items.
    /// Without an item example, an empty last page.
    fn schema_example() -> serde_json::Value {
        let schema = serde_json::to_value(T::schema()).unwrap_or_default();
        let item = schema
            .get("example")
            .or_else(|| schema.pointer("/examples/0"))
            .cloned();
        match item {
            Some(item) => {
                let next_cursor = item.get("id").map(Cursor::encode);
                serde_json::json!({"items": [item], "next_cursor": next_cursor})
            }
            None => serde_json::json!({"items": [], "next_cursor": null}),
        }
    }
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with [`PageRequest::fetch_limit`], i.e. `limit + 1`.
    ///
    /// More than `limit` rows means another page exists: the extra rows are dropped and
    /// `next_cursor` holds `key` of the last row kept. `key` must return the listing's sort
    /// key, the same value the store query compares against.
    pub fn from_rows<K, F>(mut rows: Vec<T>, limit: u32, key: F) -> Self
    where
        K: Serialize,
        F: Fn(&T) -> K,
    {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| Cursor::encode(&key(row)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// One page of a collection read whole (a shop's categories, zones, webhooks: a
    /// few dozen rows) and sorted by `key`, ascending and unique: the items after the
    /// cursor's key, at most the limit.
    pub fn from_sorted<K, F>(
        items: Vec<T>,
        page: &PageRequest,
        key: F,
    ) -> Result<Self, PaginationError>
    where
        K: Serialize + DeserializeOwned + PartialOrd,
        F: Fn(&T) -> K,
    {
        let after: Option<K> = page.after()?;
        let fetch = usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX);
        let rows = items
            .into_iter()
            .filter(|item| after.as_ref().is_none_or(|after| key(item) > *after))
            .take(fetch)
            .collect();
        Ok(Self::from_rows(rows, page.limit(), key))
    }

    /// Converts each item, e.g. store rows into API views, keeping the cursor.
    pub fn map<U, F>(self, f: F) -> Page<U>
    where
        F: FnMut(T) -> U,
    {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Why pagination parameters were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    /// `limit` was 0 or more than [`MAX_LIMIT`].
    #[error("limit must be 1 to 100")]
    LimitOutOfRange,
    /// The cursor was not issued by this listing or was altered.
    #[error("cursor is not valid; pass the next_cursor of the previous page unchanged")]
    InvalidCursor,
}

impl PaginationError {
    /// The query parameter at fault, for a field-level API error.
    pub fn field(&self) -> &'static str {
        match self {
            Self::LimitOutOfRange => "limit",
            Self::InvalidCursor => "cursor",
        }
    }
}

impl From<PaginationError> for crate::error::ApiError {
    fn from(error: PaginationError) -> Self {
        crate::error::ApiError::invalid_field(error.field(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;
    use utoipa::PartialSchema;
    use uuid::Uuid;

    #[test]
    fn a_sorted_collection_pages_after_the_cursor() {
        let all: Vec<(i32, u8)> = vec![(1, 1), (1, 2), (2, 3), (5, 4), (9, 5)];
        let first = PageRequest::from_query(PageQuery {
            limit: Some(2),
            cursor: None,
        })
        .unwrap();
        let page =
            Page::from_sorted(all.clone(), &first, |&(position, id)| (position, id)).unwrap();
        assert_eq!(page.items, vec![(1, 1), (1, 2)]);
        let next = PageRequest::from_query(PageQuery {
            limit: Some(2),
            cursor: page.next_cursor,
        })
        .unwrap();
        let page = Page::from_sorted(all.clone(), &next, |&(position, id)| (position, id)).unwrap();
        assert_eq!(page.items, vec![(2, 3), (5, 4)]);
        let last = PageRequest::from_query(PageQuery {
            limit: Some(2),
            cursor: page.next_cursor,
        })
        .unwrap();
        let page = Page::from_sorted(all, &last, |&(position, id)| (position, id)).unwrap();
        assert_eq!(page.items, vec![(9, 5)]);
        assert_eq!(page.next_cursor, None);
    }

    fn query(limit: Option<u32>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        created_at: DateTime<Utc>,
        id: Uuid,
    }

    fn rows(count: u32) -> Vec<Row> {
        (0..count)
            .map(|i| Row {
                created_at: Utc.timestamp_opt(1_700_000_000 + i64::from(i), 0).unwrap(),
                id: Uuid::now_v7(),
            })
            .collect()
    }

    #[test]
    fn defaults_to_first_page_of_twenty() {
        let request = PageRequest::from_query(PageQuery::default()).unwrap();
        assert_eq!(request.limit(), 20);
        assert_eq!(request.fetch_limit(), 21);
        assert_eq!(request.cursor(), None);
        assert_eq!(request.after::<Uuid>(), Ok(None));
        assert_eq!(request, PageRequest::default());
    }

    #[test]
    fn serves_limits_from_one_to_one_hundred() {
        for asked in [1, 20, 100] {
            let request = PageRequest::from_query(query(Some(asked), None)).unwrap();
            assert_eq!(request.limit(), asked);
        }
    }

    #[test]
    fn rejects_limits_outside_one_to_one_hundred() {
        for asked in [0, 101, u32::MAX] {
            let err = PageRequest::from_query(query(Some(asked), None)).unwrap_err();
            assert_eq!(err, PaginationError::LimitOutOfRange, "{asked}");
            assert_eq!(err.field(), "limit");
            assert_eq!(err.to_string(), "limit must be 1 to 100");
        }
    }

    #[test]
    fn rejects_garbage_cursors() {
        let not_json = URL_SAFE_NO_PAD.encode("not json");
        let padded = base64::engine::general_purpose::URL_SAFE.encode("[12]");
        for cursor in ["", "%%%", "not base64!", not_json.as_str(), padded.as_str()] {
            let err = PageRequest::from_query(query(None, Some(cursor))).unwrap_err();
            assert_eq!(err, PaginationError::InvalidCursor, "{cursor:?}");
            assert_eq!(err.field(), "cursor");
        }
    }

    #[test]
    fn cursor_round_trips_keys() {
        let id = Uuid::now_v7();
        let cursor = Cursor::parse(Cursor::encode(&id)).unwrap();
        assert_eq!(cursor.decode::<Uuid>(), Ok(id));

        let key = (Utc.timestamp_opt(1_700_000_000, 5).unwrap(), id);
        let raw = Cursor::encode(&key);
        assert!(
            raw.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{raw}"
        );
        let request = PageRequest::from_query(query(Some(5), Some(&raw))).unwrap();
        assert_eq!(request.cursor().map(Cursor::as_str), Some(raw.as_str()));
        assert_eq!(request.after::<(DateTime<Utc>, Uuid)>(), Ok(Some(key)));
    }

    #[test]
    fn decoding_as_the_wrong_key_type_fails() {
        let cursor = Cursor::parse(Cursor::encode(&"shop-slug")).unwrap();
        assert_eq!(cursor.decode::<Uuid>(), Err(PaginationError::InvalidCursor));
    }

    #[test]
    fn full_fetch_has_a_next_page() {
        let fetched = rows(4);
        let page = Page::from_rows(fetched.clone(), 3, |row| (row.created_at, row.id));
        assert_eq!(page.items, fetched[..3]);
        let cursor = Cursor::parse(page.next_cursor.unwrap()).unwrap();
        assert_eq!(
            cursor.decode::<(DateTime<Utc>, Uuid)>(),
            Ok((fetched[2].created_at, fetched[2].id))
        );
    }

    #[test]
    fn short_fetch_is_the_last_page() {
        for count in [0, 2, 3] {
            let fetched = rows(count);
            let page = Page::from_rows(fetched.clone(), 3, |row| row.id);
            assert_eq!(page.items, fetched);
            assert_eq!(page.next_cursor, None);
        }
    }

    #[test]
    fn page_serialises_with_null_cursor_and_maps() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n).map(|n| n * 10);
        assert_eq!(page.items, [10, 20]);
        assert_eq!(
            page.next_cursor
                .as_deref()
                .map(|raw| Cursor(raw.into()).decode::<i32>()),
            Some(Ok(2))
        );
        let last = Page::from_rows(vec!["a"], 2, |s| *s);
        assert_eq!(
            serde_json::to_value(&last).unwrap(),
            json!({"items": ["a"], "next_cursor": null})
        );
    }

    #[test]
    fn query_parameters_are_documented() {
        let params = PageQuery::into_params(|| None);
        let params = serde_json::to_value(params).unwrap();
        assert_eq!(params[0]["name"], "limit");
        assert_eq!(params[0]["in"], "query");
        assert_eq!(params[0]["required"], false);
        assert!(
            params[0]["description"]
                .as_str()
                .unwrap()
                .contains("default 20")
        );
        assert_eq!(params[1]["name"], "cursor");
        assert!(
            params[1]["description"]
                .as_str()
                .unwrap()
                .contains("next_cursor")
        );

        let schema = serde_json::to_value(Page::<String>::schema()).unwrap();
        assert_eq!(schema["required"], json!(["items"]));
        assert!(schema["properties"]["next_cursor"].is_object());
    }
}
