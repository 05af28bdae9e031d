//! Contract search, snapshots, history, scanner and the ASX announcements page.
