use std::path::PathBuf;

use zkinfer_models::eval::evaluate;
use zkinfer_models::input::read_input_file;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

use super::*;

/// The demo CNN quantised at scale 8, with its quantised input.
fn demo() -> (Graph, Vec<Vec<i64>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let data = read_input_file(&root.join("input.json")).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    let graph = quantize_graph(&model.lower().expect("lowers"), 8).expect("quantises");
    (graph, quantize_inputs(&data.tensors, 8).expect("input quantises"))
}

/// Evaluates the segments one after another, each on the previous one's output.
fn chained(segments: &[Segment], input: &[Vec<i64>]) -> Vec<i128> {
    let mut feed: Vec<Vec<i64>> = input.to_vec();
    let mut last = Vec::new();
    for s in segments {
        let trace = evaluate(&s.graph, &feed).expect("segment evaluates");
        last = trace.outputs(&s.graph);
        feed = vec![last.iter().map(|v| i64::try_from(*v).expect("fits")).collect()];
    }
    last
}

#[test]
fn every_cut_gives_the_same_outputs_and_boundaries() {
    let (graph, input) = demo();
    let whole = evaluate(&graph, &input).expect("evaluates");
    let n = graph.nodes.len();
    let lo = first_cut(&graph);
    assert!(n - lo >= 3, "the demo has enough nodes to cut");
    let live = live_counts(&graph);
    let allowed = allowed_cuts(&graph);
    assert!((lo..n).any(|c| !allowed[c]), "the demo has rescaled products, which cannot be cut");
    for c in lo..n {
        if !allowed[c] {
            assert!(split(&graph, &[c]).is_err(), "cut {c} crosses a double-scale product");
            continue;
        }
        let segments = split(&graph, &[c]).expect("splits");
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[0].outputs, segments[1].inputs, "cut {c}: the boundary is shared");
        assert_eq!(segments[0].outputs.len(), live[c], "cut {c}: live count");
        let boundary: Vec<i128> = segments[0].outputs.iter().map(|r| whole.get(*r)).collect();
        let first = evaluate(&segments[0].graph, &input).expect("first segment");
        assert_eq!(first.outputs(&segments[0].graph), boundary, "cut {c}: boundary values");
        assert_eq!(chained(&segments, &input), whole.outputs(&graph), "cut {c}");
    }
    for c in (lo..n - 1).filter(|&c| allowed[c] && allowed[c + 1]) {
        let segments = split(&graph, &[c, c + 1]).expect("splits in three");
        assert_eq!(chained(&segments, &input), whole.outputs(&graph), "cuts {c}, {}", c + 1);
    }
}

#[test]
fn balanced_cuts_split_the_work_at_small_boundaries() {
    let (graph, input) = demo();
    let whole = evaluate(&graph, &input).expect("evaluates");
    for count in [2, 3, 4] {
        let model = crate::cuts::CellModel { dot_width: 8 };
        let cuts = crate::cuts::balanced_cuts(&graph, count, model);
        assert!(!cuts.is_empty() && cuts.len() < count + 1, "{count}: {cuts:?}");
        let segments = split(&graph, &cuts).expect("splits");
        assert_eq!(chained(&segments, &input), whole.outputs(&graph), "{count} segments");
        assert!(segments.iter().all(|s| !s.graph.nodes.is_empty()));
    }
}

#[test]
fn bad_cuts_are_refused() {
    let (graph, _) = demo();
    let n = graph.nodes.len();
    assert!(split(&graph, &[0]).is_err(), "the inputs stay in the first segment");
    assert!(split(&graph, &[n]).is_err());
    assert!(split(&graph, &[3, 3]).is_err());
}
