//! Enums known by a fixed snake_case name: the same name in the API, in the database and in the
//! spec. [`named_enum!`] writes the enum, its serde names, `ALL`, `as_str` and `from_name` from one
//! list, and [`parse_named`] gives the field error that names every allowed value.

use super::{FieldCode, FieldError};

macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value of exactly this name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

/// Parses a trimmed `input` by name; the error lists every allowed name (`颜色只能是 green、yellow
/// 或 red`).
pub fn parse_named<T: Copy>(
    input: &str,
    all: &[T],
    name_of: fn(T) -> &'static str,
    code: FieldCode,
    what: &str,
) -> Result<T, FieldError> {
    let input = input.trim();
    all.iter()
        .copied()
        .find(|value| name_of(*value) == input)
        .ok_or_else(|| FieldError::new(code, format!("{what}只能是 {}", list(all, name_of))))
}

/// `a、b 或 c`.
fn list<T: Copy>(all: &[T], name_of: fn(T) -> &'static str) -> String {
    let names: Vec<&str> = all.iter().map(|v| name_of(*v)).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} 或 {last}", rest.join("、")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    named_enum! {
        pub enum Fruit {
            Apple = "apple",
            Pear = "pear",
            Plum = "plum",
        }
    }

    #[test]
    fn names_round_trip_and_errors_list_them() {
        for fruit in Fruit::ALL {
            assert_eq!(Fruit::from_name(fruit.as_str()), Some(*fruit));
        }
        assert_eq!(
            parse_named(
                " pear ",
                Fruit::ALL,
                Fruit::as_str,
                FieldCode::StatusInvalid,
                "水果"
            )
            .unwrap(),
            Fruit::Pear
        );
        let error = parse_named(
            "fig",
            Fruit::ALL,
            Fruit::as_str,
            FieldCode::StatusInvalid,
            "水果",
        )
        .unwrap_err();
        assert_eq!(error.code, "status_invalid");
        assert_eq!(error.message, "水果只能是 apple、pear 或 plum");
        assert_eq!(serde_json::to_string(&Fruit::Plum).unwrap(), "\"plum\"");
    }
}
