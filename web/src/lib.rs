//! Caravan's web faces — the storefront, the shop admin (`/admin`), the
//! application for a shop (`/apply`) and the operators' console (`/ops`) — rendered on the server
//! (askama templates, Fluent strings in zh-CN, ug, en and ru) from the public API,
//! which it reaches through the gateway like any third party ([`caravan_client`]).
//! It holds no database: a buyer's session (tokens, carts, order links, CSRF
//! secret) lives in Redis behind one opaque cookie.

pub mod admin;
pub mod assets;
pub mod clock;
pub mod compress;
pub mod guard;
pub mod i18n;
pub mod money;
pub mod ops;
pub mod page;
pub mod qr;
pub mod recent;
pub mod routes;
pub mod session;
pub mod startup;
