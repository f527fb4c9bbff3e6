//! Page-numbered lists: `page` (from 1) and `size`, answered as `{list, pageInfo}`.

use serde_json::json;

use super::{ok_with, ApiResult, Input};
use crate::domain::ValidationError;

/// A page of a list of `total` items.
pub fn paged<T: serde::Serialize>(list: Vec<T>, total: usize, page: usize, size: usize) -> ApiResult {
    ok_with(json!({
        "list": list,
        "pageInfo": { "page": page, "size": size, "totalPage": total.div_ceil(size), "totalCount": total },
    }))
}

/// No list is longer than a few thousand entries; a bound keeps `(page - 1) * size` far
/// from overflowing.
pub const MAX_PAGE: usize = 100_000;

/// `page` (from 1) and `size` (20 by default, 100 at most), when `page` or `size` is given.
pub fn paging(input: &Input) -> Result<Option<(usize, usize)>, ValidationError> {
    let page = input.opt_string("page")?;
    let size = input.opt_string("size")?;
    if page.is_none() && size.is_none() {
        return Ok(None);
    }
    let page = match page {
        None => 1,
        Some(p) => p
            .trim()
            .parse()
            .ok()
            .filter(|&p| (1..=MAX_PAGE).contains(&p))
            .ok_or_else(|| ValidationError::new("page", "must be 1 to 100000"))?,
    };
    let size = match size {
        None => 20,
        Some(s) => s
            .trim()
            .parse()
            .ok()
            .filter(|&s| (1..=100).contains(&s))
            .ok_or_else(|| ValidationError::new("size", "must be 1 to 100"))?,
    };
    Ok(Some((page, size)))
}
