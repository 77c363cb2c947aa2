//! Hashed weights while the model circuit is assigned: the canonical cell of every parameter, and
//! the copy constraints that bind each use of a weight or bias to it (see [`crate::circuit::chips::mac`]).

use halo2_proofs::{circuit::Region, halo2curves::bn256::Fr, plonk::Error};

use crate::circuit::chips::mac::BlockCells;
use crate::circuit::chips::FpCell;
use crate::circuit::failure::{fail, SynthesisFailure};
use crate::lower::BlockParams;

/// Hashed weights while the model is assigned: the canonical cell of every parameter.
#[derive(Default)]
pub(crate) struct HiddenParams {
    /// The pack row value cell of each weight.
    pub weights: Vec<FpCell>,
    /// The packed weight elements.
    pub packed: Vec<FpCell>,
    /// The first link row cell of each bias.
    pub biases: Vec<Option<FpCell>>,
    /// A cell constrained to zero (the first one pinned).
    pub zero: Option<FpCell>,
}

impl HiddenParams {
    /// Copy every private weight of a block from its parameter's pack row, and pin to zero the
    /// weights of inputs a sum does not read (a window tile's block) and the last row's padding
    /// inputs (their private weights are free).
    pub fn bind_weights(
        &mut self,
        region: &mut Region<'_, Fr>,
        cells: &BlockCells,
        params: &BlockParams,
    ) -> Result<(), Error> {
        for (row, ids) in cells.weights.iter().zip(&params.weights) {
            for (cell, id) in row.iter().zip(ids) {
                match id {
                    Some(id) => {
                        let canonical = self
                            .weights
                            .get(*id)
                            .ok_or_else(|| fail(SynthesisFailure::MissingParameter(*id)))?;
                        region.constrain_equal(cell.cell(), canonical.cell());
                    }
                    None => self.pin_zero(region, cell)?,
                }
            }
        }
        for cell in &cells.padding {
            self.pin_zero(region, cell)?;
        }
        Ok(())
    }

    /// Constrain `cell` to zero: equal to the first cell so pinned, which is a constant.
    fn pin_zero(&mut self, region: &mut Region<'_, Fr>, cell: &FpCell) -> Result<(), Error> {
        match &self.zero {
            Some(z) => region.constrain_equal(cell.cell(), z.cell()),
            None => {
                region.constrain_constant(cell.cell(), Fr::zero())?;
                self.zero = Some(*cell);
            }
        }
        Ok(())
    }

    /// Bind a link row's private bias (`cell`, when the row has one) to sum `j`'s bias parameter.
    pub fn bind_bias(
        &mut self,
        region: &mut Region<'_, Fr>,
        cell: Option<FpCell>,
        params: Option<&BlockParams>,
        j: usize,
    ) -> Result<(), Error> {
        let (Some(cell), Some(p)) = (cell, params) else {
            return Ok(());
        };
        let id = *p
            .bias
            .get(j)
            .ok_or_else(|| fail(SynthesisFailure::MissingParameter(j)))?;
        match self
            .biases
            .get_mut(id)
            .ok_or_else(|| fail(SynthesisFailure::MissingParameter(id)))?
        {
            Some(first) => {
                region.constrain_equal(cell.cell(), first.cell());
                Ok(())
            }
            slot => {
                *slot = Some(cell);
                Ok(())
            }
        }
    }
}
