//! [`Rows`]: the index's rows, in chunks that never move.
//!
//! A `Vec` of a million rows moves them all each time it doubles: the
//! live proxy's capture thread then copies the index and faults in fresh
//! pages for it while flows wait. Chunks of a fixed size grow by one
//! chunk at a time, and a row, once added, stays where it is.

use std::ops::{Index, IndexMut};

use super::Row;

/// Rows in a chunk: a little over half a megabyte of them.
const CHUNK: usize = 4096;

/// The rows, numbered from 0 in the order they were added.
#[derive(Debug, Default)]
pub(super) struct Rows {
    chunks: Vec<Vec<Row>>,
    len: usize,
}

impl Rows {
    /// How many rows there are.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `row` at the end.
    pub(super) fn push(&mut self, row: Row) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("a chunk with room, added above")
            .push(row);
        self.len += 1;
    }

    /// Moves every row of `rows` to the end, leaving it empty.
    pub(super) fn append(&mut self, rows: &mut Vec<Row>) {
        rows.drain(..).for_each(|row| self.push(row));
    }

    /// Row `n`.
    pub(super) fn get(&self, n: usize) -> Option<&Row> {
        self.chunks.get(n / CHUNK)?.get(n % CHUNK)
    }

    /// Row `n`, to change.
    pub(super) fn get_mut(&mut self, n: usize) -> Option<&mut Row> {
        self.chunks.get_mut(n / CHUNK)?.get_mut(n % CHUNK)
    }

    /// The rows from `from` on, in order.
    pub(super) fn iter_from(&self, from: usize) -> impl Iterator<Item = &Row> {
        self.chunks
            .iter()
            .skip(from / CHUNK)
            .flatten()
            .skip(from % CHUNK)
    }
}

impl Index<usize> for Rows {
    type Output = Row;

    fn index(&self, n: usize) -> &Row {
        self.get(n)
            .unwrap_or_else(|| panic!("row {n} of {}", self.len))
    }
}

impl IndexMut<usize> for Rows {
    fn index_mut(&mut self, n: usize) -> &mut Row {
        let len = self.len;
        self.get_mut(n)
            .unwrap_or_else(|| panic!("row {n} of {len}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: usize) -> Row {
        const GET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/flows/get.mitm");
        thread_local! {
            static FLOW: crate::flow::Flow = crate::testing::read_flows(GET).remove(0);
        }
        FLOW.with(|flow| Row::of(flow, n as u64, 0))
    }

    #[test]
    fn rows_keep_their_numbers_across_chunks() {
        let mut rows = Rows::default();
        for n in 0..CHUNK + 10 {
            rows.push(row(n));
        }
        let mut more: Vec<Row> = (CHUNK + 10..2 * CHUNK + 1).map(row).collect();
        rows.append(&mut more);
        assert!(more.is_empty());
        assert_eq!(rows.len(), 2 * CHUNK + 1);
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 10, 2 * CHUNK] {
            assert_eq!(rows[n].offset, n as u64);
        }
        assert!(rows.get(2 * CHUNK + 1).is_none());
        rows[CHUNK].deleted = true;
        assert!(rows.get(CHUNK).unwrap().deleted);
        let from: Vec<u64> = rows.iter_from(CHUNK - 1).map(|r| r.offset).collect();
        assert_eq!(
            from,
            (CHUNK as u64 - 1..2 * CHUNK as u64 + 1).collect::<Vec<_>>()
        );
        assert_eq!(rows.iter_from(2 * CHUNK + 1).count(), 0);
        assert_eq!(rows.iter_from(5 * CHUNK).count(), 0);
    }
}
