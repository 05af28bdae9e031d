//! Orders: questions, fills, cancel, modify, trades and positions.
