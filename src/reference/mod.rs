//! The reference data shipped with the binary: administrative divisions and venue taxonomies.

pub mod divisions;
pub mod taxonomy;
