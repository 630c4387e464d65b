//! Input files in EZKL's layout: `{"input_data": [[...flattened input 0...], ...]}`,
//! optionally with `"input_shapes": [[1, 3, 32, 32], ...]`.
//!
//! As EZKL reads them: booleans are 1 and 0; empty trailing inputs (`[[]]`,
//! what EZKL writes for a model without inputs) are dropped; a list of shapes
//! longer than the inputs (EZKL's generators write some) is cut to their
//! number, and a shorter one is ignored, the shapes then coming from the model.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// The float inputs of one inference.
#[derive(Clone, Debug, PartialEq)]
pub struct InputData {
    /// One flattened (row-major) tensor per model input.
    pub tensors: Vec<Vec<f64>>,
    /// Shapes given by the file, if any.
    pub shapes: Option<Vec<Vec<usize>>>,
}

/// Reads and parses an input file.
pub fn read_input_file(path: &Path) -> Result<InputData> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    parse_input_json(&text, path)
}

fn flatten(v: &Value, out: &mut Vec<f64>, at: &str) -> std::result::Result<(), String> {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().ok_or_else(|| format!("{at} is not a finite number"))?;
            out.push(x);
            Ok(())
        }
        Value::Bool(b) => {
            out.push(if *b { 1.0 } else { 0.0 });
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, out, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        other => Err(format!("{at} is {}, expected a number", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses the JSON text of an input file; `path` is used in error messages.
pub fn parse_input_json(text: &str, path: &Path) -> Result<InputData> {
    let bad = |message: String| Error::InputFile { path: path.to_path_buf(), message };
    let root: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let obj = root.as_object().ok_or_else(|| bad(format!("the top level is {}, expected an object", kind(&root))))?;
    let data = obj.get("input_data").ok_or_else(|| bad("missing the \"input_data\" key".into()))?;
    let list =
        data.as_array().ok_or_else(|| bad(format!("\"input_data\" is {}, expected a list of inputs", kind(data))))?;
    if list.is_empty() {
        return Err(bad("\"input_data\" is empty".into()));
    }
    let mut tensors = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if !item.is_array() {
            return Err(bad(format!("input_data[{i}] is {}, expected a list of numbers", kind(item))));
        }
        let mut flat = Vec::new();
        flatten(item, &mut flat, &format!("input_data[{i}]")).map_err(bad)?;
        tensors.push(flat);
    }
    let given = tensors.len();
    while tensors.last().is_some_and(Vec::is_empty) {
        tensors.pop();
    }
    let shapes = match obj.get("input_shapes") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let parsed: Vec<Vec<usize>> = serde_json::from_value(v.clone())
                .map_err(|_| bad("\"input_shapes\" must be a list of lists of non-negative integers".into()))?;
            let mut parsed = parsed;
            if parsed.len() < given {
                None
            } else {
                parsed.truncate(tensors.len());
                for (i, (s, t)) in parsed.iter().zip(&tensors).enumerate() {
                    let n: usize = s.iter().product();
                    if n != t.len() {
                        return Err(bad(format!("input {i}: shape {s:?} holds {n} values but {} were given", t.len())));
                    }
                }
                Some(parsed)
            }
        }
    };
    Ok(InputData { tensors, shapes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<InputData> {
        parse_input_json(s, Path::new("input.json"))
    }

    #[test]
    fn reads_ezkl_layout_with_and_without_shapes() {
        let d = parse(r#"{"input_data": [[1, 2.5, -3]], "output_data": [[0]]}"#).unwrap();
        assert_eq!(d.tensors, vec![vec![1.0, 2.5, -3.0]]);
        assert_eq!(d.shapes, None);
        let d = parse(r#"{"input_data": [[[1, 2], [3, 4]]], "input_shapes": [[2, 2]]}"#).unwrap();
        assert_eq!(d.tensors, vec![vec![1.0, 2.0, 3.0, 4.0]]);
        assert_eq!(d.shapes, Some(vec![vec![2, 2]]));
    }

    #[test]
    fn reads_files_as_ezkl_writes_them() {
        let d = parse(r#"{"input_data": [[true, false], [1, 0]]}"#).unwrap();
        assert_eq!(d.tensors, vec![vec![1.0, 0.0], vec![1.0, 0.0]]);
        let d = parse(r#"{"input_data": [[]]}"#).unwrap();
        assert!(d.tensors.is_empty() && d.shapes.is_none(), "{d:?}");
        let d = parse(r#"{"input_data": [[1, 2, 3]], "input_shapes": [[3], [3], [3]]}"#).unwrap();
        assert_eq!(d.shapes, Some(vec![vec![3]]));
        let d = parse(r#"{"input_data": [[1, 2, 3], [4]], "input_shapes": [[3]]}"#).unwrap();
        assert_eq!(d.shapes, None);
    }

    #[test]
    fn malformed_files_name_the_problem() {
        let cases = [
            ("[1,2]", "expected an object"),
            ("{}", "missing the \"input_data\""),
            (r#"{"input_data": [[1, "x"]]}"#, "input_data[0][1] is a string"),
            (r#"{"input_data": []}"#, "is empty"),
            (r#"{"input_data": [[1,2]], "input_shapes": [[3]]}"#, "holds 3 values"),
            ("{not json", "not valid JSON"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("input_data"), "hint present: {err}");
        }
    }
}
