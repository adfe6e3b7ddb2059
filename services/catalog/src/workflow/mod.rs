//! Business flows that take more than one store call and are not tied to HTTP:
//! the route handlers parse the request, call a workflow and answer.

pub mod import;
pub(crate) mod products;
pub(crate) mod variants;
