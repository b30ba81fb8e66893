//! A CSV sheet as offices send it: a header row naming the columns, then one record a row, every
//! cell trimmed. A cell is read by its column's name, in whatever order the columns come.

use csv::StringRecord;

pub struct Sheet {
    headers: Vec<String>,
    /// Each row, or `None` for one that is not valid CSV.
    pub rows: Vec<Option<StringRecord>>,
}

impl Sheet {
    pub fn read(text: &str) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = match reader.headers() {
            Ok(headers) => headers.iter().map(str::to_owned).collect(),
            Err(_) => Vec::new(),
        };
        let rows = reader.records().map(Result::ok).collect();
        Self { headers, rows }
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn has(&self, column: &str) -> bool {
        self.headers.iter().any(|h| h == column)
    }

    /// The row's cell of `column`; empty when the sheet has no such column.
    pub fn cell<'a>(&self, row: &'a StringRecord, column: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| row.get(i))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_read_by_column_name_trimmed() {
        let sheet = Sheet::read("b, a\n 2 ,1\n\"unterminated\n");
        assert!(sheet.has("a") && !sheet.has("c"));
        let row = sheet.rows[0].as_ref().unwrap();
        assert_eq!((sheet.cell(row, "a"), sheet.cell(row, "b")), ("1", "2"));
        assert_eq!(sheet.cell(row, "c"), "");
        assert!(sheet.rows[1].is_none());
    }
}
