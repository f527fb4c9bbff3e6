//! Every country and region with its calling code and English and Chinese names, for
//! `/user/regionlist` and the SMS allow-list. The table is compiled in; it is parsed on
//! first use.

use std::sync::OnceLock;

use serde::Serialize;

const TABLE: &str = include_str!("regions.tsv");

#[derive(Clone, Debug, Serialize)]
pub struct Region {
    pub region: String,
    pub locale: Locale,
    #[serde(skip)]
    pub iso: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Locale {
    pub en: &'static str,
    pub zh: &'static str,
}

pub fn all() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        TABLE
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut f = line.split('\t');
                let (iso, code, en, zh) = (f.next()?, f.next()?, f.next()?, f.next()?);
                Some(Region {
                    region: code.to_string(),
                    locale: Locale { en, zh },
                    iso,
                })
            })
            .collect()
    })
}

/// Whether `code` is the calling code of a listed region (a linear scan of ~250
/// entries: cheaper than building a set at cold start, and far cheaper than loading the
/// phone metadata).
pub fn is_calling_code(code: u16) -> bool {
    let code = code.to_string();
    all().iter().any(|r| r.region == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_complete_and_consistent_with_the_phone_metadata() {
        use rlibphonenumber::{Region, PHONE_NUMBER_UTIL};
        let util = &*PHONE_NUMBER_UTIL;
        let regions = all();
        assert!(regions.len() >= 240, "only {} regions", regions.len());
        let mut isos = std::collections::HashSet::new();
        for r in regions {
            assert!(isos.insert(r.iso), "duplicate {}", r.iso);
            assert!(!r.locale.en.is_empty() && !r.locale.zh.is_empty(), "{}", r.iso);
            let code: u16 = r.region.parse().unwrap_or_else(|_| panic!("{}: bad code", r.iso));
            // A region the library has no numbering plan for (Pitcairn) is listed anyway.
            let known = Region::from_code(r.iso)
                .ok()
                .and_then(|region| util.get_country_code_for_region(region));
            if let Some(known) = known {
                assert_eq!(known, i32::from(code), "{}", r.iso);
            }
        }
        // Every region the phone-number library can validate is listed.
        for region in util.get_supported_regions() {
            let id: &str = &region.as_region_str();
            assert!(id == "001" || isos.contains(id), "{id} missing from regions.tsv");
        }
        for (iso, zh) in [("CN", "中国"), ("US", "美国"), ("CA", "加拿大"), ("KZ", "哈萨克斯坦")] {
            assert!(regions.iter().any(|r| r.iso == iso && r.locale.zh == zh), "{iso}");
        }
    }
}
