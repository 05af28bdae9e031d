//! The ASX announcements page (`/asx/v2/statistics/todayAnns.do`, no auth): an HTML table with a
//! header row, one row per announcement: code · date and time · price-sensitive marker (an
//! `img.pricesens`, only in price-sensitive rows) · headline link then page count.

use chrono_tz::Australia::Sydney;

use super::Reply;
use crate::lock;
use crate::server::Shared;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page.
pub fn announcements(shared: &Shared) -> Reply {
    let book = lock(&shared.book);
    let today = book
        .announcements_date
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&Sydney).date_naive())
        .format("%d/%m/%Y")
        .to_string();
    let mut rows = String::new();
    for (i, a) in book.announcements.iter().enumerate() {
        let marker = if a.price_sensitive {
            r#"<img class="pricesens" src="/images/icon-price-sensitive.svg" alt="asterix" title="price sensitive">"#
        } else {
            ""
        };
        let pages = if a.pages == 1 {
            "1 page".to_owned()
        } else {
            format!("{} pages", a.pages)
        };
        rows.push_str(&format!(
            "<tr>\n<td>{code}</td>\n<td>{today}<br>\n<span class=\"dates-time\">{time}</span></td>\n\
             <td class=\"pricesens\">{marker}</td>\n\
             <td><a href=\"/asx/statistics/displayAnnouncement.do?display=pdf&amp;idsId={id:08}\">{headline}</a>\n\
             <span class=\"page\">{pages}</span> <span class=\"filesize\">120.5KB</span></td>\n</tr>\n",
            code = escape(&a.ticker),
            time = escape(&a.time),
            id = 2_900_000 + i,
            headline = escape(&a.headline),
        ));
    }
    Reply::Html(
        200,
        format!(
            "<!DOCTYPE html>\n<html><head><title>ASX - Today's Announcements</title></head><body>\n\
             <h2>Company announcements released today</h2>\n\
             <announcement_data>\n<table>\n<thead>\n<tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr>\n</thead>\n<tbody>\n{rows}</tbody>\n</table>\n</announcement_data>\n</body></html>\n"
        ),
    )
}
