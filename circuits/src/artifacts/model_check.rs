//! The structural checks of a model file ([`ModelFile::validate`]): every size bounded before
//! anything is computed from it, every layer consistent with the tensors it reads, the layout the
//! graph needs, and the weights hash where the visibility says so.

use super::model_file::{
    is_hex, Commitment, ModelFile, MAX_ELEMENTS, MAX_LAYER_INPUTS, MAX_SCALE, MAX_VK_HEX, MAX_WORK,
};
use crate::circuit::CircuitShape;
use crate::plan::{self, MAX_K};
use crate::qgraph::ops::CheckCx;
use crate::qgraph::QOp;

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
        // Table pack rows range-check into [-2^(L-1), 2^(L-1)), which holds an int8 input only
        // from L = 8 (a packed input with fewer bits could not be proven).
        if self.shape.packed_input != self.visibility.input.is_packed()
            || (self.shape.packed_input && (g.int8.is_none() || g.limb_bits < 8))
        {
            return Err("its input packing does not match its circuit shape and graph".into());
        }
        if !(plan::MIN_K..=MAX_K).contains(&self.k) {
            return Err(format!("k = {} out of range", self.k));
        }
        if g.layers.is_empty() {
            return Err("no layers".into());
        }
        self.validate_weights_hash()?;
        let ps = &self.proof_system;
        if ps.verifying_key.len() > MAX_VK_HEX || !is_hex(&ps.verifying_key) {
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
            if l.out_scale > MAX_SCALE {
                return Err(format!(
                    "layer '{}' has scale 2^{}, out of range",
                    l.name, l.out_scale
                ));
            }
            // The op's own checks (its geometry first: the work below divides by its groups).
            let rules = l.op.rules();
            let cx = CheckCx {
                graph: g,
                layer: l,
                index: i,
                out,
                len,
            };
            rules.check(&cx)?;
            work = work.saturating_add(rules.work(out));
            if work > MAX_WORK {
                return Err(format!(
                    "the model needs over {MAX_WORK} multiply-accumulates: too large"
                ));
            }
            let fused = prev.is_some_and(QOp::is_sum);
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
        let plan =
            plan::plan_of_shape(g, self.visibility, &self.shape).map_err(|e| e.to_string())?;
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
