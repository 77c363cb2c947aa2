//! Pack rows of the model circuit: values range-checked one per row and, for a hashed tensor,
//! packed into field elements (see [`crate::circuit::chips::pack`]). A hashed or private input and hashed
//! weights go through them.

use halo2_proofs::{
    circuit::{Region, Value},
    halo2curves::bn256::Fr,
    plonk::Error,
};

use crate::circuit::chips::rescale::RescaleParams;
use crate::circuit::chips::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::circuit::ModelConfig;

/// One pack row per value (a hashed or private input, or hashed weights): the value range-checked by
/// a rescale row (shift 0, no activation) and, when `hashed`, packed. Returns the value cells and the
/// packed elements.
pub(crate) fn assign_pack_rows(
    config: &ModelConfig,
    region: &mut Region<'_, Fr>,
    start: usize,
    n: usize,
    values: Option<&[i64]>,
    hashed: bool,
) -> Result<(Vec<FpCell>, Vec<FpCell>), Error> {
    let pack = match (&config.hashing, hashed) {
        (Some((pack, _)), true) => Some(pack),
        (None, true) => return Err(fail(SynthesisFailure::MissingValue)),
        _ => None,
    };
    let sums = match (pack, values) {
        (Some(p), Some(v)) => Some(p.packing.running_sums(v)),
        _ => None,
    };
    let rescale = config
        .rescale
        .as_ref()
        .ok_or_else(|| fail(SynthesisFailure::MissingChip("rescale")))?;
    let (mut cells, mut packed) = (Vec::with_capacity(n), Vec::new());
    for i in 0..n {
        let row = start + i;
        let v = values.map(|v| v[i]);
        let (_, y) = rescale.assign(region, row, v, RescaleParams::identity(0))?;
        for col in &config.mac.acc[5..] {
            FpCell::assign(region, *col, row, Value::known(Fr::zero()));
        }
        if let Some(p) = pack {
            let z = sums
                .as_ref()
                .map_or(Value::unknown(), |s| Value::known(s[i]));
            packed.extend(p.assign_value(region, row, (i, n), z)?);
        } else if let Some((p, _)) = &config.hashing {
            // Unpacked rows in a circuit with pack rows (a private input before hashed weights):
            // the next pack row's gate reads this `z` (times a zero chain flag), so it is assigned.
            FpCell::assign(region, p.z, row, Value::known(Fr::zero()));
        }
        cells.push(y);
    }
    Ok((cells, packed))
}
