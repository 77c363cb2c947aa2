//! How a model's outputs are shown to people: a long tensor summarized (its head and tail; `--json`
//! has every value), and a top class only where the outputs look like a classifier's scores.

/// Most values printed in full; a longer output shows its first [`HEAD`] and last [`TAIL`] values.
pub const SHOWN: usize = 20;
/// Values shown before the ellipsis of a long output.
pub const HEAD: usize = 10;
/// Values shown after the ellipsis of a long output.
pub const TAIL: usize = 4;
/// Most outputs a classifier is taken to have.
pub const MAX_CLASSES: usize = 1000;

/// `[a, b, …]` with four decimals, summarized past [`SHOWN`] values.
pub fn fmt_outputs(v: &[f64]) -> String {
    let fmt = |s: &[f64]| {
        s.iter()
            .map(|x| format!("{x:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if v.len() <= SHOWN {
        return format!("[{}]", fmt(v));
    }
    format!(
        "[{}, … {}] ({} values; --json lists all)",
        fmt(&v[..HEAD]),
        fmt(&v[v.len() - TAIL..]),
        v.len()
    )
}

/// The index of the largest output, when the outputs are a classifier's scores: between 2 and
/// [`MAX_CLASSES`] of them, and fewer than the model's inputs (an autoencoder's reconstruction or a
/// regression over as many values as it reads has no top class).
pub fn top_class(v: &[f64], input_len: usize) -> Option<usize> {
    let classifier = (2..=MAX_CLASSES).contains(&v.len()) && v.len() < input_len;
    classifier.then(|| {
        v.iter()
            .enumerate()
            .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_outputs_are_summarized_and_only_classifiers_have_a_top_class() {
        assert_eq!(fmt_outputs(&[1.0, -0.5]), "[1.0000, -0.5000]");
        let long: Vec<f64> = (0..640).map(f64::from).collect();
        let s = fmt_outputs(&long);
        assert!(
            s.starts_with("[0.0000, 1.0000,") && s.contains("… 636.0000"),
            "{s}"
        );
        assert!(
            s.ends_with("639.0000] (640 values; --json lists all)"),
            "{s}"
        );
        assert_eq!(top_class(&[0.1, 0.7, 0.2], 64), Some(1));
        assert_eq!(top_class(&long, 640), None, "an autoencoder");
        assert_eq!(top_class(&[0.3], 64), None, "one score");
    }
}
