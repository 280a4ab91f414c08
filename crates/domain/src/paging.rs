//! Paging a list already read in full (a workspace's builds, a template's versions).

use crate::Page;

/// The page of `rows`: `offset` rows skipped, at most `limit` kept (no limit: all the rest).
pub fn page<T>(rows: Vec<T>, page: Page) -> Vec<T> {
    let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let limit = page.limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    rows.into_iter().skip(offset).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::page;
    use crate::Page;

    #[test]
    fn pages_by_offset_and_limit() {
        let rows: Vec<i32> = (0..10).collect();
        assert_eq!(page(rows.clone(), Page { limit: None, offset: 0 }), rows);
        assert_eq!(page(rows.clone(), Page { limit: Some(3), offset: 2 }), vec![2, 3, 4]);
        assert_eq!(page(rows.clone(), Page { limit: Some(5), offset: 8 }), vec![8, 9]);
        assert!(page(rows, Page { limit: None, offset: 20 }).is_empty());
    }
}
