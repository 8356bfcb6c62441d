//! The web view's model, without sockets: the session file of flows and
//! its in-memory index ([`Session`], [`Row`]), the list's filtered and
//! sorted order ([`Query`], [`Window`]), and the JSON the page reads
//! ([`json`]). The runner's `web` module serves it.

pub mod compare;
pub mod compose;
pub mod edit;
mod error;
pub mod export;
pub mod json;
mod order;
pub mod preview;
pub mod row;
mod rows;
pub mod rules;
mod session;

pub use error::{Invalid, ReadBack};
pub use order::{Progress, Query, SortKey, Window};
pub use row::Row;
pub use session::Session;

#[cfg(test)]
mod tests;
