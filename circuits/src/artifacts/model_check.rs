//! The structural checks of a model file ([`ModelFile::validate`]): every size bounded before
//! anything is computed from it, every layer consistent with the tensors it reads, the layout the
//! graph needs, and the weights hash where the visibility says so.

use super::model_file::{
    from_hex_bytes, Commitment, ModelFile, MAX_ELEMENTS, MAX_LAYER_INPUTS, MAX_SCALE, MAX_VK_HEX,
    MAX_WORK,
};
use crate::circuit::CircuitShape;
use crate::plan::{self, MAX_K};
use crate::qgraph::requant::REQUANT_LIMB_BITS;
use crate::qgraph::{QOp, QPick, MAX_SUM_COEFF};

impl ModelFile {
    /// Structural checks, so that nothing later indexes out of bounds or builds an absurd circuit:
    /// [`Self::validate_contents`], then [`Self::validate_layout`].
    pub fn validate(&self) -> Result<(), String> {
        self.validate_contents()?;
        self.validate_layout()
    }

    /// Every check but the layout's: sizes, layers, visibilities, keys, SRS. What a verifier needs
    /// before it reads the verifying key and checks proofs (none of which reads the layout).
    pub fn validate_contents(&self) -> Result<(), String> {
        let g = &self.graph;
        if !(2..=14).contains(&g.limb_bits) {
            return Err(format!("limb bits {} out of range", g.limb_bits));
        }
        if self.shape.limb_bits != g.limb_bits || !self.shape.is_valid() {
            return Err("circuit shape does not match the graph".into());
        }
        if !(plan::MIN_K..=MAX_K).contains(&self.k) {
            return Err(format!("k = {} out of range", self.k));
        }
        if g.layers.is_empty() {
            return Err("no layers".into());
        }
        self.validate_weights_hash()?;
        let ps = &self.proof_system;
        if ps.verifying_key.len() > MAX_VK_HEX || from_hex_bytes(&ps.verifying_key).is_none() {
            return Err("its verifying key is not hex, or too long".into());
        }
        if !crate::disclosure::hashing::is_canonical_hex(&ps.proving_key_digest) {
            return Err("its proving key digest is not 64 lowercase hex digits".into());
        }
        match (ps.commitment, &ps.srs) {
            (Commitment::Kzg, Some(srs)) => {
                srs.tau_g2().map_err(|e| format!("its SRS: {e}"))?;
            }
            (Commitment::Ipa, None) => {
                if self.k > crate::setup::ipa::MAX_K {
                    return Err(format!(
                        "k = {} is over IPA mode's {}",
                        self.k,
                        crate::setup::ipa::MAX_K
                    ));
                }
            }
            (Commitment::Kzg, None) => return Err("it is a KZG model without an SRS".into()),
            (Commitment::Ipa, Some(_)) => return Err("it is an IPA model with an SRS".into()),
        }
        // A salted input that is not hashed, a private output or private weights cannot be read
        // (`Visibilities` refuses them when the file is parsed).
        // Bound every size before anything is computed from it, so that a hostile file can neither
        // overflow an index nor make the planner allocate without limit.
        let sized =
            |s: &crate::ir::Shape| s.checked_numel().filter(|n| (1..=MAX_ELEMENTS).contains(n));
        let input_len = sized(&g.input_shape).ok_or("the input shape is empty or too large")?;
        // Elements of every tensor so far (id 0: the input, `k + 1`: layer k's output).
        let mut lens = vec![input_len];
        if g.input_scale > MAX_SCALE {
            return Err(format!("input scale 2^{} out of range", g.input_scale));
        }
        let mut work = 0usize;
        let mut rows = 0usize;
        let mut prev: Option<&QOp> = None;
        for (i, l) in g.layers.iter().enumerate() {
            let out = sized(&l.out_shape).ok_or(format!(
                "layer '{}' has an empty or too large shape",
                l.name
            ))?;
            if l.inputs.len() > MAX_LAYER_INPUTS || l.inputs.iter().any(|t| *t > i) {
                return Err(format!(
                    "layer '{}' reads a tensor that is not made before it",
                    l.name
                ));
            }
            let len = g
                .layer_inputs(i)
                .iter()
                .fold(0usize, |n, t| n.saturating_add(lens[*t]));
            if len > MAX_ELEMENTS {
                return Err(format!("layer '{}' reads too many elements", l.name));
            }
            match &l.op {
                QOp::Add { coeffs } => {
                    let big = coeffs
                        .iter()
                        .any(|c| c.unsigned_abs() >= MAX_SUM_COEFF as u64);
                    if coeffs.is_empty() || big || out.checked_mul(coeffs.len()) != Some(len) {
                        return Err(format!("layer '{}' has an invalid sum", l.name));
                    }
                }
                QOp::Mul if g.layer_inputs(i).len() != 2 || out.checked_mul(2) != Some(len) => {
                    return Err(format!("layer '{}' has an invalid product", l.name));
                }
                _ => {}
            }
            if l.out_scale > MAX_SCALE {
                return Err(format!(
                    "layer '{}' has scale 2^{}, out of range",
                    l.name, l.out_scale
                ));
            }
            // The geometry first: the work below divides by its groups.
            if let QOp::Conv { geom, .. } | QOp::MaxPool { geom } = &l.op {
                geom.validate()
                    .map_err(|e| format!("layer '{}': {e}", l.name))?;
            }
            let cost = match &l.op {
                QOp::Conv { geom, .. } | QOp::MaxPool { geom } => {
                    geom.out_len_total().saturating_mul(geom.kernel_len())
                }
                QOp::Linear { weight, .. } => weight.len(),
                _ => out,
            };
            work = work.saturating_add(cost);
            if work > MAX_WORK {
                return Err(format!(
                    "the model needs over {MAX_WORK} multiply-accumulates: too large"
                ));
            }
            match &l.op {
                QOp::Linear {
                    in_features,
                    out_features,
                    weight,
                    bias,
                    ..
                } => {
                    let expected = in_features.checked_mul(*out_features);
                    let big = |v: &i64| v.unsigned_abs() >= 1 << 40;
                    if weight.iter().any(big) || bias.iter().any(big) {
                        return Err(format!("layer '{}' has weights over 2^40", l.name));
                    }
                    if *in_features != len
                        || *out_features != out
                        || expected != Some(weight.len())
                        || bias.len() != *out_features
                    {
                        return Err(format!("layer '{}' has inconsistent sizes", l.name));
                    }
                }
                QOp::Conv {
                    geom, weight, bias, ..
                } => {
                    let big = |v: &i64| v.unsigned_abs() >= 1 << 40;
                    if geom.in_len() != len
                        || geom.out_len_total() != out
                        || geom.weight_len() != weight.len()
                        || bias.len() != geom.out_c
                        || weight.iter().any(big)
                        || bias.iter().any(big)
                    {
                        return Err(format!("layer '{}' has inconsistent sizes", l.name));
                    }
                }
                QOp::MaxPool { geom } => {
                    if geom.in_len() != len
                        || geom.out_len_total() != out
                        || geom.groups != geom.out_c
                        || geom.in_c != geom.out_c
                    {
                        return Err(format!("layer '{}' has inconsistent sizes", l.name));
                    }
                    if !geom.windows_overlap_input() {
                        return Err(format!(
                            "layer '{}' has a pooling window over padding only",
                            l.name
                        ));
                    }
                }
                QOp::Clip { lo, hi } => {
                    let big = |v: &Option<i64>| v.is_some_and(|v| v.unsigned_abs() >= 1 << 40);
                    let inverted = matches!((lo, hi), (Some(a), Some(b)) if a > b);
                    if out != len || big(lo) || big(hi) || inverted {
                        return Err(format!("layer '{}' has an invalid clip", l.name));
                    }
                }
                QOp::Function {
                    domain,
                    in_scale,
                    out_scale,
                    table,
                    ..
                } => {
                    let big = table.iter().any(|v| v.unsigned_abs() >= 1 << 40);
                    let ok_domain =
                        (1..=1 << 16).contains(domain) && table.len() as i64 == 2 * domain;
                    if out != len || !ok_domain || big || *in_scale > 32 || *out_scale > 32 {
                        return Err(format!("layer '{}' has an invalid function table", l.name));
                    }
                }
                QOp::Remap { map } => {
                    let bad = map.iter().any(|p| match p {
                        QPick::Input(i) => *i >= len,
                        QPick::Const(c) => c.unsigned_abs() >= 1 << 40,
                    });
                    if map.len() != out || bad {
                        return Err(format!("layer '{}' has an invalid remap", l.name));
                    }
                }
                QOp::RescaleLeaky {
                    shift,
                    slope_bits,
                    slopes,
                    channel_len,
                } => {
                    let bad_slope = slopes.iter().any(|s| s.unsigned_abs() >= 1 << 24);
                    if *shift > g.limb_bits
                        || out != len
                        || *slope_bits > 16
                        || slopes.is_empty()
                        || bad_slope
                        || *channel_len == 0
                    {
                        return Err(format!("layer '{}' has an invalid leaky rescale", l.name));
                    }
                }
                QOp::Rescale { shift, .. } => {
                    if *shift > g.limb_bits || out != len {
                        return Err(format!("layer '{}' has an invalid rescale", l.name));
                    }
                }
                QOp::Requant { steps, channel_len } => {
                    let big = |v: i128| v.unsigned_abs() >= 1 << 100;
                    let bad_step = steps.iter().any(|s| {
                        big(s.mul)
                            || big(s.add)
                            || big(s.neg_add)
                            || !(0..1 << REQUANT_LIMB_BITS).contains(&s.span)
                            || s.q_min.unsigned_abs() >= 1 << 40
                            || s.out_min.unsigned_abs() >= 1 << 40
                    });
                    let covers =
                        steps.len() == 1 || steps.len().checked_mul(*channel_len) == Some(out);
                    if out != len
                        || steps.is_empty()
                        || *channel_len == 0
                        || !covers
                        || bad_step
                        || g.limb_bits != REQUANT_LIMB_BITS
                    {
                        return Err(format!("layer '{}' has an invalid requantization", l.name));
                    }
                }
                QOp::Threshold {
                    maps, channel_len, ..
                } => {
                    let covers =
                        maps.len() == 1 || maps.len().checked_mul(*channel_len) == Some(out);
                    let bad = maps.iter().find_map(|m| m.validate().err());
                    if out != len
                        || maps.is_empty()
                        || *channel_len == 0
                        || !covers
                        || g.limb_bits != REQUANT_LIMB_BITS
                    {
                        return Err(format!("layer '{}' has invalid threshold maps", l.name));
                    }
                    if let Some(why) = bad {
                        return Err(format!("layer '{}': a threshold map: {why}", l.name));
                    }
                    // Every interval and alternative is a table row the verifier builds.
                    let rows: usize = maps
                        .iter()
                        .map(|m| m.thresholds.len() + 1 + m.alternatives.len())
                        .sum();
                    if rows > MAX_ELEMENTS {
                        return Err(format!("layer '{}': {rows} threshold table rows", l.name));
                    }
                }
                QOp::Table { lo, table } => {
                    let big = table.iter().any(|v| v.unsigned_abs() >= 1 << 40);
                    if out != len
                        || table.is_empty()
                        || table.len() > 1 << 16
                        || big
                        || lo.unsigned_abs() >= 1 << 40
                    {
                        return Err(format!("layer '{}' has an invalid table", l.name));
                    }
                }
                QOp::Add { .. } | QOp::Mul => {}
            }
            let fused = matches!(
                prev,
                Some(QOp::Linear { .. } | QOp::Conv { .. } | QOp::Add { .. } | QOp::Mul)
            );
            rows = rows.saturating_add(plan::min_rows(&l.op, out, fused));
            lens.push(out);
            prev = Some(&l.op);
        }
        // Before lowering, whose memory grows with the rows.
        if rows > 1 << MAX_K {
            return Err(format!(
                "the model needs at least {rows} rows, more than k = {MAX_K} allows"
            ));
        }
        Ok(())
    }

    /// The circuit's size and shape are those the planner gives the graph (what proving needs:
    /// the graph is laid out on them). Lowers the whole graph, so it costs time in proportion to
    /// the model's multiply-accumulates.
    pub fn validate_layout(&self) -> Result<(), String> {
        let g = &self.graph;
        let plan = plan::plan_for(
            g,
            self.visibility,
            self.shape.inputs_per_row,
            self.shape.width,
        )
        .map_err(|e| e.to_string())?;
        // A file written before rescale rows could be left out keeps them (unused, harmless).
        let legacy = CircuitShape {
            no_rescale: false,
            ..plan.shape
        };
        if plan.k != self.k || (plan.shape != self.shape && legacy != self.shape) {
            return Err(format!(
                "k = {} and shape {:?}, but the layout needs k = {} and {:?}",
                self.k, self.shape, plan.k, plan.shape
            ));
        }
        Ok(())
    }
}

impl ModelFile {
    /// A hashed-weights model carries its weights hash, and (unless stripped) the hash of its
    /// weights is that one; any other model carries neither.
    fn validate_weights_hash(&self) -> Result<(), String> {
        if !self.visibility.weights.is_hashed() {
            if self.weights_hash.is_some() || self.stripped {
                return Err(format!(
                    "its weights are {}, but it carries a weights hash or is stripped",
                    self.visibility.weights
                ));
            }
            return Ok(());
        }
        let claimed = self
            .weights_hash
            .as_deref()
            .ok_or("its weights are hashed, but it carries no weights hash")?;
        let claimed = crate::disclosure::hashing::from_hex(claimed).map_err(|e| e.to_string())?;
        let (n_weights, n_biases) = self.graph.param_counts();
        if n_weights >= crate::disclosure::hashing::MAX_PARAMS
            || n_biases >= crate::disclosure::hashing::MAX_PARAMS
        {
            return Err("too many weights to hash".into());
        }
        let params = self.graph.params();
        if self.stripped {
            let zero = |v: &Vec<i64>| v.iter().all(|x| *x == 0);
            if !zero(&params.weights) || !zero(&params.biases) {
                return Err("it is marked stripped, but it carries weights".into());
            }
            return Ok(());
        }
        let actual = crate::disclosure::hashing::weights_hash(
            self.graph.limb_bits,
            &params.weights,
            &params.biases,
        )
        .map_err(|e| format!("its weights cannot be hashed: {e}"))?;
        if actual != claimed {
            return Err("its weights do not match its weights hash".into());
        }
        Ok(())
    }
}
