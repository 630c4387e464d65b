//! `zkinfer inspect`: what zkinfer makes of a model, without proving: the operator
//! table, the quantised graph with rows per layer, and the circuit it would use.

use std::collections::BTreeMap;

use anyhow::Result;
use clap::Args;
use zkinfer_circuits::chips::dot::job_rows;
use zkinfer_models::ir::Op;
use zkinfer_models::onnx::{OnnxModel, OpStatus};
use zkinfer_prover::compiled::CompiledModel;

use crate::pipeline::{compile_loaded, CompileFlags, ModelArgs};
use crate::ui::Ui;

/// Arguments of `inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The model and its input.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Compilation settings.
    #[command(flatten)]
    pub flags: CompileFlags,
}

/// Rows of one layer (ONNX node) of the compiled graph.
#[derive(Debug, serde::Serialize)]
struct LayerRow {
    layer: String,
    ops: String,
    elements: usize,
    terms: usize,
    dot_rows: usize,
    elem_rows: usize,
}

fn op_table(onnx: &OnnxModel) -> (Vec<(String, usize, String)>, Vec<String>) {
    let mut by_op: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unsupported = Vec::new();
    for row in onnx.op_table() {
        let status = match &row.status {
            OpStatus::Supported => "proven".to_string(),
            OpStatus::Constant => "constant-folded".to_string(),
            OpStatus::Unsupported(reason) => {
                unsupported.push(format!("{} ({}): {}", row.node, row.op, reason));
                "UNSUPPORTED".to_string()
            }
        };
        *by_op.entry((row.op, status)).or_default() += 1;
    }
    (by_op.into_iter().map(|((op, s), n)| (op, n, s)).collect(), unsupported)
}

fn layers(compiled: &CompiledModel) -> Vec<LayerRow> {
    let program = compiled.program();
    let elem_rows = program.layout.elem_rows_per_node(compiled.graph.nodes.len());
    let width = compiled.shape.dot_width as usize;
    let mut out: Vec<LayerRow> = Vec::new();
    for (id, node) in compiled.graph.nodes.iter().enumerate() {
        let (terms, dot_rows) = match &node.op {
            Op::Linear(l) => (l.terms.items.len(), l.terms.rows().map(|r| job_rows(r.len(), width)).sum()),
            Op::Bilinear { terms } => (terms.items.len(), terms.rows().map(|r| job_rows(r.len(), width)).sum()),
            _ => (0, 0),
        };
        let row = LayerRow {
            layer: node.name.clone(),
            ops: node.op.kind_name().to_string(),
            elements: node.len(),
            terms,
            dot_rows,
            elem_rows: elem_rows[id],
        };
        match out.last_mut() {
            Some(last) if last.layer == row.layer => {
                last.ops = format!("{}+{}", last.ops, row.ops);
                last.elements = last.elements.max(row.elements);
                last.terms += row.terms;
                last.dot_rows += row.dot_rows;
                last.elem_rows += row.elem_rows;
            }
            _ => out.push(row),
        }
    }
    out
}

/// Runs `inspect`.
pub fn run(args: InspectArgs, ui: &Ui) -> Result<()> {
    let step = ui.step("loading the model");
    let loaded = args.model.load()?;
    step.done();
    let (ops, unsupported) = op_table(&loaded.onnx);
    let workload = loaded.onnx.workload()?;
    // A model too large to compile here still gets its operator table and size.
    let too_large = workload.check_fits(zkinfer_models::memory::available_bytes()).err();
    let compiled = if unsupported.is_empty() && too_large.is_none() {
        let step = ui.step("compiling");
        let c = compile_loaded(&args.model.model, &loaded, &args.flags.options(), ui)?;
        step.done();
        Some(c)
    } else {
        None
    };
    if args.json {
        let doc = serde_json::json!({
            "model": args.model.model.display().to_string(),
            "inputs": loaded.onnx.input_names.iter().zip(&loaded.onnx.input_shapes).map(|(n, s)| serde_json::json!({"name": n, "shape": s})).collect::<Vec<_>>(),
            "operators": ops.iter().map(|(op, n, s)| serde_json::json!({"op": op, "count": n, "status": s})).collect::<Vec<_>>(),
            "unsupported": unsupported,
            "multiply_accumulates": workload.terms,
            "estimated_compile_bytes": workload.bytes(),
            "too_large": too_large.as_ref().map(|e| e.to_string()),
            "layers": compiled.as_ref().map(layers),
            "circuit": compiled.as_ref().map(|c| &c.shape),
            "settings": compiled.as_ref().map(|c| &c.settings),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("model {}", args.model.model.display());
        for (n, s) in loaded.onnx.input_names.iter().zip(&loaded.onnx.input_shapes) {
            println!("  input {n}: {s:?}");
        }
        println!("\noperators (after tract's simplification):");
        println!("  {:<24} {:>5}  status", "op", "count");
        for (op, n, s) in &ops {
            println!("  {op:<24} {n:>5}  {s}");
        }
        println!(
            "\nsize: {} multiply-accumulates; compiling takes about {}",
            workload.terms,
            zkinfer_models::memory::size(workload.bytes())
        );
        if let Some(c) = &compiled {
            println!("\nlayers:");
            println!(
                "  {:<40} {:<20} {:>8} {:>9} {:>9} {:>9}",
                "layer", "ops", "elements", "terms", "dot rows", "elem rows"
            );
            for l in layers(c) {
                println!(
                    "  {:<40} {:<20} {:>8} {:>9} {:>9} {:>9}",
                    l.layer, l.ops, l.elements, l.terms, l.dot_rows, l.elem_rows
                );
            }
            let (s, e) = (&c.shape, &c.settings.estimate);
            println!("\ncircuit:");
            println!("  k = {} ({} rows used of {} usable)", s.k, e.rows, e.usable_rows);
            println!(
                "  columns: {} advice, {} fixed, {} lookups, {} permutation products",
                e.advice_columns, e.fixed_columns, e.lookups, e.permutation_products
            );
            println!(
                "  lanes: {} dot-product lanes x {} terms, {} element-wise lanes x {} limbs",
                s.dot_lanes,
                s.dot_width,
                s.elem_lanes,
                s.limbs()
            );
            println!(
                "  scale {} bits, values in {} bits, range table {} bits",
                s.ranges.scale, s.ranges.value_bits, s.ranges.lookup_bits
            );
            for (func, bits) in c.graph.lookup_tables() {
                // Inputs below the graph scale past the table-size cap.
                println!(
                    "  table {}: 2^{bits} entries, inputs at scale {}, outputs at scale {}",
                    func.name(),
                    func.table_scale(c.graph.scale),
                    c.graph.scale
                );
            }
            println!("\ncalibration (max abs error on the input per scale):");
            for t in &c.settings.trials {
                let chosen = if t.scale == s.ranges.scale { " <- chosen" } else { "" };
                match (&t.max_abs_error, &t.k, &t.failure) {
                    (Some(err), Some(k), _) => println!(
                        "  scale {:>2}: error {err:.2e}, k = {k}, cost {:.2e}{chosen}",
                        t.scale,
                        t.cost.unwrap_or(0.0)
                    ),
                    (_, _, Some(f)) => {
                        println!("  scale {:>2}: unusable ({})", t.scale, f.lines().next().unwrap_or(""))
                    }
                    _ => {}
                }
            }
        }
    }
    if !unsupported.is_empty() {
        anyhow::bail!("{} operator(s) cannot be proven yet:\n  {}", unsupported.len(), unsupported.join("\n  "));
    }
    if let Some(e) = too_large {
        return Err(e.into());
    }
    Ok(())
}
