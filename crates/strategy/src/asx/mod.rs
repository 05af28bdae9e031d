//! What skim knows about the ASX: the price step, the trading calendar, the session times in
//! Sydney, and the "today's announcements" page.

mod announcements;
mod calendar;
mod price_step;
mod session;

pub use announcements::{Announcement, parse_announcements};
pub use calendar::{
    Calendar, EARLY_CLOSE, Holiday, NORMAL_CLOSE, easter_sunday, holidays, is_rule_holiday,
};
pub use price_step::{add_steps, is_on_step, price_step, round_down_to_step, round_up_to_step};
pub use session::{
    CLOSING_AUCTION_AFTER_CLOSE, CONTINUOUS_OPEN, CONTINUOUS_OPEN_SINCE, POST_CLOSE_AFTER_CLOSE,
    PRE_OPEN, SYDNEY, SessionPhase, sydney, sydney_date, sydney_time, sydney_to_utc,
};
