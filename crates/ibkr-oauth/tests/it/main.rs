//! Integration tests of `ibkr-oauth`: one binary (see STYLE.md).

mod vectors;
