//! The ASX "today's announcements" page
//! (`https://www.asx.com.au/asx/v2/statistics/todayAnns.do`).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::error::{ParseError, StrategyError};
use crate::types::Ticker;

/// One company announcement from the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The company's ASX code.
    pub ticker: Ticker,
    /// When it was released, Sydney local time.
    pub time: NaiveDateTime,
    /// Whether the ASX marked it price-sensitive.
    pub price_sensitive: bool,
    /// The headline (the link text, without the page count or file size).
    pub headline: String,
    /// The page count shown under the headline, when there is one.
    pub pages: Option<u32>,
    /// The link to the document, as written on the page (usually relative to asx.com.au).
    pub url: Option<String>,
}

/// Parses the page into its announcements, in page order.
///
/// A page with the announcements table and no rows gives `Ok(vec![])`. A page without a table
/// whose header columns are ASX Code · Date · Price sens. · Headline, or with a row that does
/// not fit them, is an error ([`StrategyError::PageFormatChanged`]): never an empty list that
/// would silently trade nothing.
pub fn parse_announcements(html: &str) -> Result<Vec<Announcement>, ParseError> {
    let _ = html;
    Err(StrategyError::PageFormatChanged(
        "parser not implemented yet".into(),
    ))
}
