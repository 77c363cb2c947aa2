//! The model circuit's columns, gates and lookups for one [`CircuitShape`]: which chip uses which
//! columns (the link, rescale, requant and function rows share the multiply-accumulate rows' columns).

use halo2_proofs::{
    halo2curves::bn256::Fr,
    plonk::{Column, ConstraintSystem, Instance},
};

use super::chips::function::FunctionConfig;
use super::chips::mac::HiddenWeights;
use super::chips::pack::{PackConfig, TablePackConfig};
use super::chips::poseidon::HashConfig;
use super::chips::product::ProductConfig;
use super::chips::requant::RequantConfig;
use super::chips::table_sum::TableSumConfig;
use super::chips::threshold::ThresholdConfig;
use super::chips::{link::LinkConfig, mac::MacConfig, rescale::RescaleConfig, table::RangeTable};
use super::CircuitShape;
use crate::lower::BlockLayout;

/// The columns, gates and lookups of the model circuit, as configured for one [`CircuitShape`].
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Multiply-accumulate rows (inputs, accumulators, weight columns).
    pub mac: MacConfig,
    /// Function rows and table (when the shape has `functions`).
    pub function: Option<FunctionConfig>,
    /// Table-sum rows (when the shape has `table_sums`).
    pub table_sum: Option<TableSumConfig>,
    /// Product rows (when the shape has `products`).
    pub product: Option<ProductConfig>,
    /// Link rows that move accumulators out.
    pub link: LinkConfig,
    /// Rescale rows (unless the shape has `no_rescale`).
    pub rescale: Option<RescaleConfig>,
    /// int8 requant rows (when the shape has `requant`).
    pub requant: Option<RequantConfig>,
    /// Threshold rows and table (when the shape has `threshold`).
    pub threshold: Option<ThresholdConfig>,
    /// The range table the rescale rows (pack rows included) look up.
    pub table: RangeTable,
    /// Pack rows and the Poseidon chip (when the shape has hashing).
    pub hashing: Option<(PackConfig, HashConfig)>,
    /// Table pack rows (a public input packed into instance cells).
    pub input_pack: Option<TablePackConfig>,
    /// The public values: the instance columns (equality-enabled), the shape's `C`.
    pub instances: Vec<Column<Instance>>,
    /// How the graph's blocks are laid out on the rows (the shape's `P`, `W` and window tiles).
    pub layout: BlockLayout,
}

impl ModelConfig {
    /// Lay out the columns, gates and lookups of `shape` (panics on an invalid shape).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, shape: CircuitShape) -> Self {
        assert!(shape.is_valid(), "invalid circuit shape {shape:?}");
        let x: Vec<_> = (0..shape.inputs_per_row)
            .map(|_| meta.advice_column())
            .collect();
        let acc: Vec<_> = (0..shape.width).map(|_| meta.advice_column()).collect();
        let f: Vec<_> = (0..shape.width * shape.inputs_per_row)
            .map(|_| meta.fixed_column())
            .collect();
        let chain = meta.fixed_column();
        let hidden = shape.hidden_weights.then(|| HiddenWeights {
            a: f.iter()
                .map(|_| {
                    let a = meta.advice_column();
                    meta.enable_equality(a);
                    a
                })
                .collect(),
            h: meta.fixed_column(),
        });
        let hidden_bias = hidden.as_ref().map(|h| (h.a[4], h.h));
        let instances: Vec<Column<Instance>> = (0..shape.instance_columns)
            .map(|_| {
                let c = meta.instance_column();
                meta.enable_equality(c);
                c
            })
            .collect();
        for col in &x {
            meta.enable_equality(*col);
        }
        let table = RangeTable::configure(meta, shape.limb_bits);
        let mac = MacConfig::configure(
            meta,
            x.clone(),
            acc.clone(),
            f.clone(),
            chain,
            shape.weight_offset_bits,
            hidden,
        );
        // Link and rescale rows reuse the weight columns for their fixed values (rescale: f0, f1, f2,
        // f5; link: f3, f4) and the accumulator columns for their witnesses; the rescale's output lands
        // in the equality-enabled x_0.
        let link = LinkConfig::configure(
            meta,
            acc.clone(),
            x[0],
            f[3],
            f[4],
            shape.bias_offset_bits,
            hidden_bias,
        );
        let requant_selector = shape.requant.then(|| meta.complex_selector());
        let rescale = (!shape.no_rescale).then(|| {
            RescaleConfig::configure(
                meta,
                [acc[0], acc[1], acc[2], acc[3], acc[4], x[0]],
                [f[0], f[1], f[2], f[5]],
                &table,
                requant_selector,
            )
        });
        // Requant rows: the accumulator's limbs in the rescale's checked columns (low a_1, middle
        // a_3, high a_2 with its sign in a_4), their other cells in a_5.. then x_1.., the output in
        // x_0; fixed cells in the weight columns the link leaves (f3, f4 are the link's).
        let requant = requant_selector.map(|sel| {
            let spare: Vec<_> = acc[5..].iter().chain(&x[1..]).copied().collect();
            RequantConfig::configure(
                meta,
                sel,
                (acc[0], [acc[1], acc[3], acc[2], acc[4]], x[0]),
                spare[..9].try_into().expect("W + P >= 15"),
                [f[0], f[1], f[2], f[5], f[6], f[7]],
                &table,
            )
        });
        // Threshold rows: acc in a_0 through the link, y in x_0, the interval and its limbs in
        // a_1.. then x_1.., the map's tag in f2.
        let threshold = shape.threshold.then(|| {
            let spare: Vec<_> = acc[1..].iter().chain(&x[1..]).copied().collect();
            let limbs = shape.threshold_limbs();
            ThresholdConfig::configure(
                meta,
                (acc[0], x[0]),
                &spare[..limbs.cells()],
                (f[2], &table),
                (limbs, shape.threshold_banks),
            )
        });
        let product = shape.products.then(|| ProductConfig::configure(meta, &mac));
        // Table-sum rows: a threshold row whose accumulator is the sum of two function lookups'
        // outputs (inputs in the last two x, outputs after the threshold's cells, tags in the last
        // two weight columns).
        let table_sum = shape.table_sums.then(|| {
            TableSumConfig::configure(meta, (&x, &acc, &f), shape.threshold_limbs().cells())
        });
        // Function rows (when the model has Sigmoid or Tanh): x in a_0 through the link, y in x_0,
        // the function's tag in f2; and the table-sum rows' lanes.
        let function = shape.functions.then(|| {
            let lanes = table_sum.as_ref().map(TableSumConfig::lanes);
            FunctionConfig::configure(meta, acc[0], x[0], f[2], lanes)
        });
        // Pack rows: the rescale's output in x_0, the running sum in x_1, chunk starts in `chain`.
        let hashing = shape.hashing.then(|| {
            (
                PackConfig::configure(meta, x[0], x[1], chain, shape.limb_bits),
                HashConfig::configure(meta, shape.hash_chips()),
            )
        });
        // Table pack rows: the value in x_0, the running sum in x_1, chunk starts in `chain`.
        let input_pack = shape
            .packed_input
            .then(|| TablePackConfig::configure(meta, x[0], x[1], chain, &table));
        ModelConfig {
            mac,
            product,
            function,
            table_sum,
            link,
            rescale,
            requant,
            threshold,
            table,
            hashing,
            input_pack,
            instances,
            layout: BlockLayout::of(&shape),
        }
    }

    /// The instance column and row of public value `r` (see
    /// [`crate::disclosure::instance::instance_position`]).
    pub fn instance_cell(&self, r: usize) -> (Column<Instance>, usize) {
        let (c, row) = crate::disclosure::instance::instance_position(r, self.instances.len());
        (self.instances[c], row)
    }
}
