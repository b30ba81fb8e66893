//! Who is calling: passwords of staff accounts (sessions and extractors come with the identity
//! providers).

pub mod password;
