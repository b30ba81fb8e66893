//! One page of a list that grows: at most `limit` items past the cursor in the list's order (older
//! ones for a list newest first, newer ones for a queue oldest first). The cursor is the last
//! item's id as text; clients treat it as opaque and send it back as given.

use super::{FieldCode, FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items past this id in the list's order; `None` for the first page.
    pub after: Option<i64>,
    pub limit: i64,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 500;

    /// The first page of at most `limit` items (the console's lists).
    pub fn first(limit: i64) -> Self {
        Self { after: None, limit }
    }

    /// `?cursor=…&limit=…` as typed; each bad parameter named.
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let after = errors
            .check(
                "cursor",
                cursor
                    .map(|text| match text.trim().parse::<i64>() {
                        Ok(id) if id > 0 => Ok(id),
                        _ => Err(FieldError::new(
                            FieldCode::CursorInvalid,
                            "cursor 无效，请使用上一页返回的 next_cursor",
                        )),
                    })
                    .transpose(),
            )
            .flatten();
        let limit = errors.check(
            "limit",
            match limit.unwrap_or(Self::DEFAULT_LIMIT) {
                n @ 1..=Self::MAX_LIMIT => Ok(n),
                _ => Err(FieldError::new(
                    FieldCode::LimitOutOfRange,
                    format!("limit 应在 1 到 {} 之间", Self::MAX_LIMIT),
                )),
            },
        );
        errors.finish()?;
        Ok(Self {
            after,
            limit: limit.unwrap_or(Self::DEFAULT_LIMIT),
        })
    }

    /// Rows to read: one more than the page, to know whether another page follows.
    pub fn rows(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts rows read with [`rows`](Self::rows) to the page; the next page's cursor when more
    /// follow.
    pub fn cut<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        let next = rows.last().map(|row| id(row).to_string());
        (rows, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_one_row_more_and_names_the_next_cursor_only_when_more_follow() {
        let page = PageRequest::parse(None, Some(2)).unwrap();
        assert_eq!(page.rows(), 3);
        assert_eq!(
            page.cut(vec![9, 8, 7], |n| *n),
            (vec![9, 8], Some("8".to_owned()))
        );
        assert_eq!(page.cut(vec![9, 8], |n| *n), (vec![9, 8], None));
        let next = PageRequest::parse(Some("8"), Some(2)).unwrap();
        assert_eq!(next.after, Some(8));
    }

    #[test]
    fn a_bad_cursor_or_limit_is_named() {
        let errors = PageRequest::parse(Some("abc"), Some(0)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, e)| (f, e.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("cursor", "cursor_invalid"),
                ("limit", "limit_out_of_range")
            ]
        );
        assert!(PageRequest::parse(Some("-3"), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 100);
    }
}
