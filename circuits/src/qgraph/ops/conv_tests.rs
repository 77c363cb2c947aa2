//! The convolution's lowering: every block computes the sums it claims (the reference evaluator's,
//! bias included), names the parameters it uses, and takes the rows [`WindowTile::rows`] counts;
//! window tiles cover depthwise convolutions with fewer rows, and without them the blocks are one
//! position each (the layout of model files written before window tiles).

use super::conv::WindowTile;
use super::QConv;
use crate::ir::geom::ConvGeom;
use crate::ir::Shape;
use crate::lower::{lower, BlockLayout};
use crate::qgraph::{QLayer, QOp, QuantGraph};

/// (name, geometry, whether window tiles must lower its rows at W >= 6).
fn cases() -> Vec<(&'static str, ConvGeom, bool)> {
    let mut transposed = ConvGeom::square(2, [5, 5], 2, [3, 3], 1, [1, 1, 1, 1], 1, 2).unwrap();
    (transposed.in_h, transposed.in_w, transposed.input_dilation) = (3, 3, [2, 2]);
    (transposed.pads, transposed.out_h, transposed.out_w) = ([2, 1, 2, 2], 7, 6);
    transposed.validate().unwrap();
    vec![
        (
            "depthwise 3x3 same",
            ConvGeom::square(4, [6, 7], 4, [3, 3], 1, [1; 4], 1, 4).unwrap(),
            true,
        ),
        (
            "depthwise 3x3 stride 2",
            ConvGeom::square(3, [7, 8], 3, [3, 3], 2, [1, 1, 1, 1], 1, 3).unwrap(),
            true,
        ),
        (
            "depthwise multiplier 2",
            ConvGeom::square(2, [5, 5], 4, [3, 3], 1, [1; 4], 1, 2).unwrap(),
            true,
        ),
        (
            "depthwise dilation 2",
            ConvGeom::square(2, [7, 7], 2, [3, 3], 1, [2; 4], 2, 2).unwrap(),
            true,
        ),
        (
            "average pool 2x2 stride 2",
            ConvGeom::square(3, [6, 6], 3, [2, 2], 2, [0; 4], 1, 3).unwrap(),
            false,
        ),
        (
            "groups 2, 3 channels each",
            ConvGeom::square(4, [5, 4], 6, [3, 3], 1, [1; 4], 1, 2).unwrap(),
            false,
        ),
        (
            "dense 3x3",
            ConvGeom::square(2, [5, 5], 7, [3, 3], 1, [1; 4], 1, 1).unwrap(),
            false,
        ),
        (
            "1-D depthwise",
            ConvGeom::square(3, [1, 9], 3, [1, 3], 1, [0, 1, 0, 1], 1, 3).unwrap(),
            true,
        ),
        ("transposed, depthwise", transposed, true),
    ]
}

fn graph(g: ConvGeom) -> QuantGraph {
    let weight: Vec<i64> = (0..g.weight_len())
        .map(|i| (i as i64 * 37) % 19 - 9)
        .collect();
    let bias: Vec<i64> = (0..g.out_c).map(|i| i as i64 * 5 - 7).collect();
    QuantGraph {
        input_shape: Shape(vec![1, g.in_c, g.in_h, g.in_w]),
        input_scale: 4,
        limb_bits: 8,
        int8: None,
        layers: vec![QLayer::new(
            "conv",
            QOp::Conv(QConv {
                geom: g,
                weight_scale: 4,
                weight: weight.into(),
                bias,
            }),
            8,
            vec![1, g.out_c, g.out_h, g.out_w],
        )],
    }
}

#[test]
fn every_block_computes_the_reference_sums_with_its_parameters() {
    for (name, g, _) in cases() {
        let q = graph(g);
        let QOp::Conv(conv) = &q.layers[0].op else {
            unreachable!()
        };
        let params = q.params();
        let x: Vec<i64> = (0..g.in_len()).map(|i| (i as i64 * 11) % 17 - 8).collect();
        let reference = g.apply(&x, &conv.weight, &conv.bias);
        for (p, w) in [(1, 5), (2, 6), (3, 8), (4, 16)] {
            for window_tiles in [false, true] {
                let layout = BlockLayout {
                    inputs_per_row: p,
                    width: w,
                    window_tiles,
                    table_sums: false,
                };
                let stages = lower(&q, layout);
                assert_eq!(stages.len(), 1, "{name}");
                let stage = &stages[0];
                let mut slots: Vec<Option<i64>> = x.iter().map(|v| Some(*v)).collect();
                slots.resize(stage.slots, None);
                for b in &stage.blocks {
                    assert!(b.outputs.len() <= w, "{name}: a block over W sums");
                    let bp = b
                        .params
                        .as_ref()
                        .expect("a conv block names its parameters");
                    for (j, out) in b.outputs.iter().enumerate() {
                        let mut sum = b.bias[j];
                        assert_eq!(b.bias[j], params.biases[bp.bias[j]], "{name}");
                        for (i, slot) in b.inputs.iter().enumerate() {
                            sum += b.weights[j][i] * slots[*slot].expect("an input slot");
                            let named = bp.weights[j][i].map_or(0, |id| params.weights[id]);
                            assert_eq!(b.weights[j][i], named, "{name}: sum {j}, input {i}");
                        }
                        slots[*out] = Some(sum);
                    }
                }
                let got: Vec<i64> = stage.out.iter().map(|s| slots[*s].unwrap()).collect();
                assert_eq!(
                    got, reference,
                    "{name}, P = {p}, W = {w}, tiles {window_tiles}"
                );
                let tile = WindowTile::best(&g, layout);
                assert_eq!(stage.rows(p), tile.rows(&g, p), "{name}: counted rows");
            }
        }
    }
}

#[test]
fn window_tiles_lower_the_rows_of_depthwise_convolutions_only_where_they_pay() {
    for (name, g, pays) in cases() {
        for (p, w) in [(2, 6), (3, 8), (4, 16)] {
            let on = BlockLayout::new(p, w);
            let off = BlockLayout {
                window_tiles: false,
                ..on
            };
            let single = WindowTile::best(&g, off);
            assert_eq!((single.h, single.w, single.channels), (1, 1, w), "{name}");
            let tile = WindowTile::best(&g, on);
            let (rows_on, rows_off) = (tile.rows(&g, p), single.rows(&g, p));
            assert!(rows_on <= rows_off, "{name}: tiles never cost rows");
            if pays {
                assert!(rows_on < rows_off, "{name}, P = {p}, W = {w}: {tile:?}");
                assert!(tile.h * tile.w > 1, "{name}");
            }
            assert!(tile.h * tile.w * tile.channels.min(g.out_per_group()) <= w);
        }
    }
}

#[test]
fn without_window_tiles_each_block_is_one_position_s_window() {
    let g = ConvGeom::square(4, [6, 7], 4, [3, 3], 1, [1; 4], 1, 4).unwrap();
    let q = graph(g);
    let layout = BlockLayout {
        inputs_per_row: 3,
        width: 8,
        window_tiles: false,
        table_sums: false,
    };
    let stage = &lower(&q, layout)[0];
    assert_eq!(stage.blocks.len(), g.out_len_total());
    for (b, (gr, oy, ox)) in stage
        .blocks
        .iter()
        .zip((0..4).flat_map(|gr| (0..6).flat_map(move |oy| (0..7).map(move |ox| (gr, oy, ox)))))
    {
        let patch: Vec<usize> = g.patch(gr, oy, ox).iter().map(|(i, _)| *i).collect();
        assert_eq!(b.inputs, patch);
    }
}
