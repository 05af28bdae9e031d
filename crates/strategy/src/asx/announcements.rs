//! The ASX "today's announcements" page
//! (`https://www.asx.com.au/asx/v2/statistics/todayAnns.do`).
//!
//! The page holds one HTML table, one row per announcement:
//!
//! ```html
//! <table>
//!   <thead><tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr></thead>
//!   <tbody>
//!     <tr>
//!       <td>BHP</td>
//!       <td>04/12/2026<br><span class="dates-time">10:02 am</span></td>
//!       <td class="pricesens"><img src="/images/icon-price-sensitive.svg" class="pricesens"
//!           alt="asterix" title="price sensitive"></td>
//!       <td><a href="/asx/v2/statistics/displayAnnouncement.do?display=pdf&idsId=02912345">
//!           Quarterly Activities Report<br><span class="page">5 pages</span>
//!           <span class="filesize">1.2MB</span></a></td>
//!     </tr>
//! ```
//!
//! The table is found by its header columns (ASX Code · Date · Price sens. · Headline, in any
//! order, in a `<thead>` or as a first row of `<th>`), not by position on the page. The
//! price-sensitive cell exists in every row; only a price-sensitive row has the marker image
//! in it. Anything that does not fit is [`StrategyError::PageFormatChanged`].

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use scraper::{ElementRef, Html, Node};
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
/// A page with the announcements table and no rows gives `Ok(vec![])` (so does a single
/// full-width row saying there are no announcements). A page without a table whose header
/// columns are ASX Code · Date · Price sens. · Headline, or with a row that does not fit them
/// (missing cells, an invalid ASX code, an unreadable date or time, no headline), is an error
/// ([`StrategyError::PageFormatChanged`]): never an empty list that would silently trade
/// nothing.
pub fn parse_announcements(html: &str) -> Result<Vec<Announcement>, ParseError> {
    let doc = Html::parse_document(html);
    let mut seen_headers: Vec<String> = Vec::new();
    let tables = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "table");
    for table in tables {
        let rows = rows_of(table);
        let Some((header_index, header)) = header_row(&rows) else {
            continue;
        };
        match Columns::recognise(&header) {
            Some(columns) => {
                return rows
                    .iter()
                    .enumerate()
                    .filter(|(i, (_, in_thead))| *i != header_index && !*in_thead)
                    .filter_map(|(i, (row, _))| parse_row(*row, &columns, i + 1).transpose())
                    .collect();
            }
            None => seen_headers.push(header.join(" | ")),
        }
    }
    Err(StrategyError::PageFormatChanged(
        if seen_headers.is_empty() {
            "no announcements table found (expected columns ASX Code, Date, Price sens., Headline)"
                .to_owned()
        } else {
            format!(
                "no table has the columns ASX Code, Date, Price sens., Headline (found: {})",
                seen_headers.join("; ")
            )
        },
    ))
}

/// Column positions of the announcements table.
struct Columns {
    code: usize,
    date: usize,
    price_sensitive: usize,
    headline: usize,
    count: usize,
}

impl Columns {
    fn recognise(header: &[String]) -> Option<Self> {
        let find = |pred: &dyn Fn(&str) -> bool| header.iter().position(|h| pred(h));
        let code = find(&|h| h.contains("code"))?;
        let price_sensitive = find(&|h| h.contains("price") && h.contains("sens"))?;
        let date = find(&|h| h.contains("date") || h == "time" || h.contains("released"))?;
        let headline = find(&|h| h.contains("headline") || h.contains("title"))?;
        let mut all = [code, date, price_sensitive, headline];
        all.sort_unstable();
        if all.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        Some(Self {
            code,
            date,
            price_sensitive,
            headline,
            count: header.len(),
        })
    }
}

/// The rows of `table` itself (not of tables nested in it), header and body, in order, each
/// with whether it sits in a `<thead>`.
fn rows_of(table: ElementRef<'_>) -> Vec<(ElementRef<'_>, bool)> {
    let mut rows = Vec::new();
    for child in table.children().filter_map(ElementRef::wrap) {
        match child.value().name() {
            "tr" => rows.push((child, false)),
            name @ ("thead" | "tbody" | "tfoot") => rows.extend(
                child
                    .children()
                    .filter_map(ElementRef::wrap)
                    .filter(|e| e.value().name() == "tr")
                    .map(|tr| (tr, name == "thead")),
            ),
            _ => {}
        }
    }
    rows
}

/// The header: the first row of a `<thead>`, or else the first row whose cells are all
/// `<th>` (names normalised: lower case, single spaces, no trailing full stop).
fn header_row(rows: &[(ElementRef<'_>, bool)]) -> Option<(usize, Vec<String>)> {
    let is_header = |(row, in_thead): &(ElementRef<'_>, bool)| {
        let cells = cells_of(*row);
        !cells.is_empty() && (*in_thead || cells.iter().all(|c| c.value().name() == "th"))
    };
    let index = rows
        .iter()
        .position(|r| r.1 && is_header(r))
        .or_else(|| rows.iter().position(is_header))?;
    let names = cells_of(rows[index].0)
        .into_iter()
        .map(|c| {
            let text = c.text().collect::<Vec<_>>().join(" ");
            let text = squash(&text).to_lowercase();
            text.trim_end_matches('.').to_owned()
        })
        .collect();
    Some((index, names))
}

fn cells_of(row: ElementRef<'_>) -> Vec<ElementRef<'_>> {
    row.children()
        .filter_map(ElementRef::wrap)
        .filter(|e| matches!(e.value().name(), "td" | "th"))
        .collect()
}

/// One body row → an announcement; `Ok(None)` for a row that carries no announcement (no
/// cells, or one full-width "no announcements" message).
fn parse_row(
    row: ElementRef<'_>,
    columns: &Columns,
    row_number: usize,
) -> Result<Option<Announcement>, ParseError> {
    let changed = |what: String| {
        Err(StrategyError::PageFormatChanged(format!(
            "row {row_number}: {what}"
        )))
    };
    let cells = cells_of(row);
    if cells.is_empty() {
        return Ok(None);
    }
    if cells.len() == 1 {
        let text = squash(&cells[0].text().collect::<String>()).to_lowercase();
        if text.contains("no ") && text.contains("announcement") {
            return Ok(None);
        }
    }
    if cells.len() < columns.count {
        return changed(format!(
            "{} cells where the header has {}",
            cells.len(),
            columns.count
        ));
    }

    let code = squash(&cells[columns.code].text().collect::<String>());
    let ticker = match Ticker::parse(&code) {
        Ok(t) => t,
        Err(_) => return changed(format!("{code:?} is not an ASX code")),
    };

    let when = words(cells[columns.date]);
    let Some(time) = parse_date_time(&when) else {
        return changed(format!(
            "{ticker}: date and time {:?} not like \"04/12/2026 10:02 am\"",
            when.join(" ")
        ));
    };

    let price_sensitive = is_price_sensitive(cells[columns.price_sensitive]);

    let headline_cell = cells[columns.headline];
    let link = headline_cell
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "a");
    let headline = match link {
        Some(a) => headline_text(a),
        None => headline_text(headline_cell),
    };
    if headline.is_empty() {
        return changed(format!("{ticker}: no headline"));
    }
    let pages = page_count(&words(headline_cell));
    let url = link.and_then(|a| a.value().attr("href")).map(str::to_owned);

    Ok(Some(Announcement {
        ticker,
        time,
        price_sensitive,
        headline,
        pages,
        url,
    }))
}

/// The price-sensitive marker: an `<img>` with class `pricesens`, or one titled "price
/// sensitive". The cell itself (often `class="pricesens"` too) is present in every row.
fn is_price_sensitive(cell: ElementRef<'_>) -> bool {
    cell.descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "img")
        .any(|img| {
            img.value()
                .classes()
                .any(|c| c.eq_ignore_ascii_case("pricesens"))
                || img
                    .value()
                    .attr("title")
                    .is_some_and(|t| t.to_lowercase().contains("price sensitive"))
        })
}

/// The date (`dd/mm/yyyy`) and the time (`10:02 am`, `10:02am`, `10:02 AM`, `10:02`) among the
/// cell's words.
fn parse_date_time(words: &[String]) -> Option<NaiveDateTime> {
    let date = words
        .iter()
        .find_map(|w| NaiveDate::parse_from_str(w, "%d/%m/%Y").ok())?;
    let i = words.iter().position(|w| w.contains(':'))?;
    let clock = words[i].to_uppercase();
    let (clock, meridiem) = if let Some(c) = clock.strip_suffix("AM") {
        (c.to_owned(), Some("AM"))
    } else if let Some(c) = clock.strip_suffix("PM") {
        (c.to_owned(), Some("PM"))
    } else {
        let next = words.get(i + 1).map(|w| w.to_uppercase());
        match next.as_deref() {
            Some("AM") => (clock, Some("AM")),
            Some("PM") => (clock, Some("PM")),
            _ => (clock, None),
        }
    };
    let time = match meridiem {
        Some(m) => NaiveTime::parse_from_str(&format!("{clock} {m}"), "%I:%M %p")
            .or_else(|_| NaiveTime::parse_from_str(&format!("{clock} {m}"), "%I:%M:%S %p"))
            .ok()?,
        None => NaiveTime::parse_from_str(&clock, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(&clock, "%H:%M:%S"))
            .ok()?,
    };
    Some(date.and_time(time))
}

/// The headline: the element's text up to the first `<br>` or page-count/file-size element.
fn headline_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_until_break(element, &mut out);
    strip_page_count(&squash(&out))
}

/// Appends text in document order; returns `true` once a break was met.
fn collect_until_break(element: ElementRef<'_>, out: &mut String) -> bool {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(e) => {
                let is_meta = e
                    .classes()
                    .any(|c| matches!(c, "page" | "pages" | "filesize" | "file-size"));
                if e.name() == "br" || is_meta {
                    return true;
                }
                if let Some(el) = ElementRef::wrap(child) {
                    out.push(' ');
                    if collect_until_break(el, out) {
                        return true;
                    }
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    false
}

/// Removes a trailing "3 pages" / "1 page" (and a file size after it) from a headline written
/// without a break before them.
fn strip_page_count(headline: &str) -> String {
    let words: Vec<&str> = headline.split(' ').collect();
    for i in (1..words.len()).rev() {
        let is_pages =
            words[i].eq_ignore_ascii_case("pages") || words[i].eq_ignore_ascii_case("page");
        if is_pages && words[i - 1].parse::<u32>().is_ok() && i >= 2 {
            return words[..i - 1].join(" ");
        }
    }
    headline.to_owned()
}

/// "5 pages" / "1 page" among the words.
fn page_count(words: &[String]) -> Option<u32> {
    words.windows(2).find_map(|w| {
        let unit = w[1].to_lowercase();
        if unit == "page" || unit == "pages" {
            w[0].parse().ok()
        } else {
            None
        }
    })
}

/// The element's words, with element boundaries (`<br>`, `<span>`) as separators.
fn words(element: ElementRef<'_>) -> Vec<String> {
    let mut text = String::new();
    for piece in element.text() {
        text.push_str(piece);
        text.push(' ');
    }
    text.split_whitespace().map(str::to_owned).collect()
}

/// Collapses runs of whitespace (including non-breaking spaces) to single spaces and trims.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
