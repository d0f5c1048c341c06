//! Medians across rounds, and ratios of paired rounds.

/// The median of `values` (the mean of the middle two for an even count); `None` if
/// there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

/// The median over rounds of `a[i] / b[i]`, for rounds where both were measured.
///
/// Rounds run the implementations back to back, so pairing them cancels much of the
/// drift of a shared, noisy machine; the median drops outlier rounds.
pub fn paired_ratio(a: &[Option<f64>], b: &[Option<f64>]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if *b != 0.0 => Some(a / b),
            _ => None,
        })
        .collect();
    median(&ratios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn ratios_pair_rounds_and_skip_gaps() {
        let a = [Some(2.0), Some(3.0), None, Some(10.0)];
        let b = [Some(1.0), Some(3.0), Some(1.0), Some(0.0)];
        assert_eq!(paired_ratio(&a, &b), Some(1.5));
        assert_eq!(paired_ratio(&[None], &[Some(1.0)]), None);
    }
}
