//! Weights stored beside the model file (ONNX "external data").
//!
//! PyTorch's exporter (`torch.onnx.export`, whose default since 2.9 is the
//! dynamo exporter) writes the graph to `model.onnx` and the weights to
//! `model.onnx.data`; so does ONNX's own `save_model(...,
//! save_as_external_data=True)` for models past protobuf's 2 GiB. Each such
//! tensor names a file relative to the model's folder, an offset and a length.
//! They are read into the model here, once, so that everything after loading
//! (the ONNX-ML rewrites, tract, the operator table) sees one self-contained
//! model.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use tract_onnx::pb::tensor_proto::DataLocation;
use tract_onnx::pb::{GraphProto, ModelProto, TensorProto};

use crate::error::{Error, Result};

/// Reads every external tensor of `proto` (including those in subgraphs and
/// constant attributes) from the files beside `model_path`, into the tensor
/// itself.
pub(crate) fn inline_external_data(proto: &mut ModelProto, model_path: &Path) -> Result<()> {
    let dir = model_path.parent().unwrap_or(Path::new(""));
    match proto.graph.as_mut() {
        Some(graph) => inline_graph(graph, dir, model_path),
        None => Ok(()),
    }
}

fn inline_graph(graph: &mut GraphProto, dir: &Path, model_path: &Path) -> Result<()> {
    for t in &mut graph.initializer {
        inline_tensor(t, dir, model_path)?;
    }
    for node in &mut graph.node {
        for a in &mut node.attribute {
            if let Some(t) = a.t.as_mut() {
                inline_tensor(t, dir, model_path)?;
            }
            for t in &mut a.tensors {
                inline_tensor(t, dir, model_path)?;
            }
            if let Some(g) = a.g.as_mut() {
                inline_graph(g, dir, model_path)?;
            }
            for g in &mut a.graphs {
                inline_graph(g, dir, model_path)?;
            }
        }
    }
    Ok(())
}

fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(DataLocation::External as i32)
}

fn inline_tensor(t: &mut TensorProto, dir: &Path, model_path: &Path) -> Result<()> {
    if !is_external(t) {
        return Ok(());
    }
    let bad = |detail: String| Error::ExternalData { model: model_path.to_path_buf(), tensor: t.name.clone(), detail };
    let entry = |key: &str| t.external_data.iter().find(|e| e.key == key).map(|e| e.value.as_str());
    let location = entry("location").ok_or_else(|| bad("it names no file (no `location` entry)".into()))?;
    let number = |key: &str| -> Result<Option<u64>> {
        entry(key)
            .map(|v| v.trim().parse::<u64>().map_err(|_| bad(format!("its `{key}` is `{v}`, not a byte count"))))
            .transpose()
    };
    let (offset, length) = (number("offset")?.unwrap_or(0), number("length")?);
    let file = data_path(dir, location).map_err(bad)?;
    let bytes = read_range(&file, offset, length).map_err(|e| bad(format!("{}: {e}", file.display())))?;
    t.raw_data = bytes;
    t.data_location = Some(DataLocation::Default as i32);
    t.external_data.clear();
    Ok(())
}

/// The data file `location` names, which must stay inside the model's folder
/// (a model must not make zkinfer read `/etc/passwd` or `../../secret`).
fn data_path(dir: &Path, location: &str) -> std::result::Result<PathBuf, String> {
    let rel = Path::new(location);
    if location.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!("its file `{location}` is not a relative path inside the model's folder"));
    }
    Ok(dir.join(rel))
}

fn read_range(file: &Path, offset: u64, length: Option<u64>) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(file)?;
    let size = f.metadata()?.len();
    let end = match length {
        Some(len) => offset.checked_add(len),
        None => Some(size),
    };
    match end {
        Some(end) if offset <= end && end <= size => {}
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "bytes {offset}..{} lie past its end ({size} bytes)",
                    end.map_or("?".into(), |e| e.to_string())
                ),
            ))
        }
    }
    f.seek(SeekFrom::Start(offset))?;
    let mut bytes = vec![0u8; (end.unwrap_or(size) - offset) as usize];
    f.read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::StringStringEntryProto;

    fn external(name: &str, location: &str, offset: Option<u64>, length: Option<u64>) -> TensorProto {
        let mut entries = vec![("location", location.to_string())];
        entries.extend(offset.map(|o| ("offset", o.to_string())));
        entries.extend(length.map(|l| ("length", l.to_string())));
        TensorProto {
            name: name.into(),
            data_location: Some(DataLocation::External as i32),
            external_data: entries
                .into_iter()
                .map(|(k, v)| StringStringEntryProto { key: k.into(), value: v })
                .collect(),
            ..Default::default()
        }
    }

    fn model_with(t: TensorProto) -> ModelProto {
        ModelProto { graph: Some(GraphProto { initializer: vec![t], ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn reads_the_named_byte_range_into_the_tensor() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("m.onnx.data"), [0u8, 1, 2, 3, 4, 5, 6, 7]).expect("write");
        let mut proto = model_with(external("w", "m.onnx.data", Some(2), Some(4)));
        inline_external_data(&mut proto, &dir.path().join("m.onnx")).expect("inlines");
        let t = &proto.graph.as_ref().expect("graph").initializer[0];
        assert_eq!(t.raw_data, vec![2, 3, 4, 5]);
        assert!(!is_external(t) && t.external_data.is_empty());
    }

    #[test]
    fn refuses_missing_files_short_files_and_paths_outside_the_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("d"), [0u8; 4]).expect("write");
        let model = dir.path().join("m.onnx");
        for (t, want) in [
            (external("w", "missing.data", None, None), "missing.data"),
            (external("w", "d", Some(2), Some(4)), "past its end"),
            (external("w", "../d", None, None), "inside the model's folder"),
            (external("w", "/etc/hostname", None, None), "inside the model's folder"),
            (external("w", "d", Some(0), Some(u64::MAX)), "past its end"),
            (external("w", "d", Some(1), None), ""),
        ] {
            let mut proto = model_with(t);
            let got = inline_external_data(&mut proto, &model);
            if want.is_empty() {
                assert_eq!(proto.graph.as_ref().expect("graph").initializer[0].raw_data, vec![0; 3]);
                continue;
            }
            let message = got.expect_err("refused").to_string();
            assert!(message.contains(want) && message.contains("`w`"), "{message}");
        }
    }
}
