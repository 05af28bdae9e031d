//! The ASX price step ("tick size") for equities: 0.1c below 10c, 0.5c from 10c to below $2,
//! 1c from $2. Every step boundary is a multiple of the larger step, so rounding across a
//! boundary always lands on a valid price.

use rust_decimal::Decimal;

const TEN_CENTS: Decimal = Decimal::from_parts(10, 0, 0, false, 2);
const TWO_DOLLARS: Decimal = Decimal::from_parts(2, 0, 0, false, 0);
const STEP_SUB_10C: Decimal = Decimal::from_parts(1, 0, 0, false, 3);
const STEP_SUB_2: Decimal = Decimal::from_parts(5, 0, 0, false, 3);
const STEP_FROM_2: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The price step at `price`: 0.001 below 0.10, 0.005 below 2.00, 0.01 from 2.00.
pub fn price_step(price: Decimal) -> Decimal {
    if price < TEN_CENTS {
        STEP_SUB_10C
    } else if price < TWO_DOLLARS {
        STEP_SUB_2
    } else {
        STEP_FROM_2
    }
}

/// Whether `price` is greater than zero and a whole number of steps.
pub fn is_on_step(price: Decimal) -> bool {
    price > Decimal::ZERO && (price % price_step(price)).is_zero()
}

/// The smallest price on the step that is ≥ `price` (for buy limits). Values ≤ 0 give 0.
pub fn round_up_to_step(price: Decimal) -> Decimal {
    if price <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let step = price_step(price);
    let up = (price / step).ceil() * step;
    // Rounding up inside one band can reach the next band's lower bound (e.g. 1.998 → 2.000),
    // which is on both steps; it never skips past a band boundary.
    normalise(up)
}

/// The largest price on the step that is ≤ `price` (for sell stops). Values ≤ 0 give 0, and so
/// do prices below the smallest step.
pub fn round_down_to_step(price: Decimal) -> Decimal {
    if price <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let step = price_step(price);
    normalise((price / step).floor() * step)
}

/// `price` moved up by `steps` price steps, each at the step that applies where it stands
/// (so crossing $2 switches from 0.005 to 0.01). `price` is first rounded up to the step.
pub fn add_steps(price: Decimal, steps: u32) -> Decimal {
    let mut p = round_up_to_step(price);
    for _ in 0..steps {
        p += price_step(p);
    }
    normalise(p)
}

/// Three decimal places at most, trailing zeros kept to the band's step for readability.
fn normalise(d: Decimal) -> Decimal {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn band_edges() {
        assert_eq!(price_step(dec!(0.099)), dec!(0.001));
        assert_eq!(price_step(dec!(0.10)), dec!(0.005));
        assert_eq!(price_step(dec!(1.995)), dec!(0.005));
        assert_eq!(price_step(dec!(2.00)), dec!(0.01));
    }

    #[test]
    fn rounding_across_a_boundary_lands_on_step() {
        assert_eq!(round_up_to_step(dec!(1.998)), dec!(2.00));
        assert_eq!(round_up_to_step(dec!(0.0995)), dec!(0.10));
        assert_eq!(round_down_to_step(dec!(2.004)), dec!(2.00));
        assert_eq!(round_down_to_step(dec!(1.9999)), dec!(1.995));
        assert_eq!(round_down_to_step(dec!(0.0005)), dec!(0));
    }
}
