//! The threshold table's rows ([`super::threshold`]) and their banks.
//!
//! A lookup table holds at most the circuit's usable rows, so a table longer than the rows the
//! circuit needs otherwise would set k alone (per-channel int8 models: thousands of maps). The table
//! is then split into **banks**, each a table of its own with a lookup argument of its own: each map
//! goes whole to one bank (consecutive maps, the largest bank as small as the maps allow), and a
//! threshold row enables the lookup of its map's bank alone (a fixed selector per bank, set by the
//! row's tag, so the bank of a row is part of the circuit, not of the witness). Every bank holds
//! `(0, 0, 0, 0)`, what a disabled lookup reads.

use crate::qgraph::threshold::THRESHOLD_DOMAIN;
use crate::qgraph::QuantGraph;

use super::threshold::ThresholdLimbs;

/// The threshold table: `(tag, y, lo, hi)` rows.
pub type ThresholdTable = Vec<(i64, i64, i64, i64)>;

/// The most banks a threshold table may be split into.
pub const MAX_THRESHOLD_BANKS: usize = 8;

/// The domain of each threshold map of `graph` that threshold rows with `limbs` use: the
/// accumulators the map can meet for chunked limbs (`None` when the graph cannot bound them, see
/// [`QuantGraph::threshold_domains`]), the whole [`THRESHOLD_DOMAIN`] otherwise.
pub fn map_domains(graph: &QuantGraph, limbs: ThresholdLimbs) -> Option<Vec<(i64, i64)>> {
    match limbs {
        l if l.is_chunked() => graph.threshold_domains(),
        _ => {
            let whole = (THRESHOLD_DOMAIN.0, THRESHOLD_DOMAIN.1 - 1);
            Some(vec![whole; graph.threshold_maps().len()])
        }
    }
}

/// The most rows a chunked threshold table may have, all banks together: more than any circuit
/// holds in one bank (`k <= 20`).
pub const MAX_CHUNKED_ROWS: usize = 1 << 20;

/// The rows of each map of `graph` (tag order) in the threshold table for rows with `limbs`,
/// counted without making them; `None` for chunked limbs when the graph cannot bound the maps'
/// domains.
pub fn map_rows(graph: &QuantGraph, limbs: ThresholdLimbs) -> Option<Vec<usize>> {
    let maps = graph.threshold_maps();
    if !limbs.is_chunked() {
        return Some(maps.iter().map(|m| m.table_rows().len()).collect());
    }
    let domains = graph.threshold_domains()?;
    Some(
        maps.iter()
            .zip(domains)
            .map(|(map, domain)| map.chunked_len(domain, limbs.bits(), limbs.cut()))
            .collect(),
    )
}

/// The number of rows of [`table_of`], counted without making them; `None` as there.
pub fn table_len(graph: &QuantGraph, limbs: ThresholdLimbs) -> Option<usize> {
    let rows = map_rows(graph, limbs)?;
    Some(rows.iter().fold(0usize, |n, r| n.saturating_add(*r)))
}

/// The threshold table of `graph` for rows with `limbs`: map `t`'s rows under tag `t + 1`, its
/// intervals ([`crate::qgraph::threshold::ThresholdMap::table_rows`]), or for chunked limbs their
/// pieces within the map's domain
/// ([`crate::qgraph::threshold::ThresholdMap::chunked_rows`]; `None` when the graph cannot bound
/// the domains, or when the pieces would number more than [`MAX_CHUNKED_ROWS`], so a model file
/// cannot make the prover or an auditing verifier build a table no circuit holds).
pub fn table_of(graph: &QuantGraph, limbs: ThresholdLimbs) -> Option<ThresholdTable> {
    if !limbs.is_chunked() {
        return Some(graph.threshold_table());
    }
    if table_len(graph, limbs)? > MAX_CHUNKED_ROWS {
        return None;
    }
    let domains = graph.threshold_domains()?;
    let mut rows = Vec::new();
    for (t, (map, domain)) in graph.threshold_maps().into_iter().zip(domains).enumerate() {
        for (y, lo, hi) in map.chunked_rows(domain, limbs.bits(), limbs.cut()) {
            rows.push((t as i64 + 1, y, lo, hi));
        }
    }
    Some(rows)
}

/// How the threshold table's maps are split into banks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableBanks {
    /// The bank of map `t` (tag `t + 1`).
    pub of_map: Vec<usize>,
    /// The rows of each bank: its maps' rows, without the `(0, 0, 0, 0)` row.
    pub rows: Vec<usize>,
}

impl TableBanks {
    /// Maps of `counts[t]` rows each into `banks` banks (at least one): consecutive maps, the
    /// largest bank as small as whole maps allow, the first banks filled first (the last ones may
    /// be empty).
    pub fn split(counts: &[usize], banks: usize) -> Self {
        let banks = banks.max(1);
        let total = counts.iter().fold(0usize, |n, c| n.saturating_add(*c));
        let largest = counts.iter().copied().max().unwrap_or(0);
        // The smallest bank size that `banks` banks of consecutive maps reach (greedy filling
        // needs more banks for a smaller size, so the search is a bisection).
        let (mut lo, mut hi) = (largest.max(total.div_ceil(banks)), total.max(largest));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match Self::fill(counts, mid).rows.len() <= banks {
                true => hi = mid,
                false => lo = mid + 1,
            }
        }
        let mut split = Self::fill(counts, lo);
        split.rows.resize(banks, 0);
        split
    }

    /// Consecutive maps into banks of at most `size` rows (a map larger than that alone in one).
    fn fill(counts: &[usize], size: usize) -> Self {
        let mut rows = vec![0usize];
        let mut of_map = Vec::with_capacity(counts.len());
        for &c in counts {
            let last = *rows.last().expect("one bank");
            if last > 0 && last.saturating_add(c) > size {
                rows.push(0);
            }
            *rows.last_mut().expect("one bank") += c;
            of_map.push(rows.len() - 1);
        }
        TableBanks { of_map, rows }
    }

    /// The banks of `graph`'s threshold table for rows with `limbs`; `None` as [`map_rows`].
    pub fn of_graph(graph: &QuantGraph, limbs: ThresholdLimbs, banks: usize) -> Option<Self> {
        Some(Self::split(&map_rows(graph, limbs)?, banks))
    }

    /// The rows of the largest bank (without the `(0, 0, 0, 0)` row).
    pub fn largest(&self) -> usize {
        self.rows.iter().copied().max().unwrap_or(0)
    }

    /// The bank of the map tagged `tag` (maps are tagged from 1); `None` for another tag.
    pub fn of_tag(&self, tag: i64) -> Option<usize> {
        let t = usize::try_from(tag).ok()?.checked_sub(1)?;
        self.of_map.get(t).copied()
    }

    /// `table`'s rows in their maps' banks (rows of an unknown tag go nowhere).
    pub fn split_table(&self, table: &ThresholdTable) -> Vec<ThresholdTable> {
        let mut banks = vec![Vec::new(); self.rows.len()];
        for row in table {
            if let Some(b) = self.of_tag(row.0) {
                banks[b].push(*row);
            }
        }
        banks
    }
}

#[cfg(test)]
mod tests {
    use super::TableBanks;

    #[test]
    fn banks_hold_whole_consecutive_maps_and_the_largest_is_least() {
        let counts = [5, 1, 1, 1, 4, 2, 6];
        let one = TableBanks::split(&counts, 1);
        assert_eq!(one.rows, vec![20]);
        assert_eq!(one.of_map, vec![0; 7]);
        let two = TableBanks::split(&counts, 2);
        assert_eq!(two.rows, vec![12, 8]);
        assert_eq!(two.of_map, vec![0, 0, 0, 0, 0, 1, 1]);
        let three = TableBanks::split(&counts, 3);
        assert_eq!(three.rows, vec![7, 7, 6]);
        assert_eq!(three.rows.iter().sum::<usize>(), 20);
        // No split of whole consecutive maps into three banks has a largest bank below 7.
        assert!(TableBanks::fill(&counts, 6).rows.len() > 3);
        // More banks than maps: the largest map alone, the last banks empty.
        let many = TableBanks::split(&counts, 9);
        assert_eq!(many.largest(), 6);
        assert_eq!(many.rows.len(), 9);
        assert_eq!(many.rows.iter().sum::<usize>(), 20);
        assert_eq!(many.of_tag(7), Some(many.of_map[6]));
        assert_eq!((many.of_tag(0), many.of_tag(8)), (None, None));
        let none = TableBanks::split(&[], 2);
        assert_eq!(none.rows, vec![0, 0]);
    }

    #[test]
    fn a_split_table_keeps_every_row_in_its_maps_bank() {
        let table = vec![
            (1, 0, 0, 5),
            (1, 1, 5, 9),
            (2, 3, 0, 2),
            (3, 4, 1, 2),
            (3, 5, 2, 7),
        ];
        let banks = TableBanks::split(&[2, 1, 2], 2);
        let split = banks.split_table(&table);
        assert_eq!(split.len(), 2);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), banks.rows);
        for (b, rows) in split.iter().enumerate() {
            assert!(rows.iter().all(|r| banks.of_tag(r.0) == Some(b)));
        }
        assert_eq!(split.concat(), table);
    }
}
