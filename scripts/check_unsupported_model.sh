#!/usr/bin/env bash
# Checks the unsupported-operator test model is byte-identical to what its script generates.
exec "$(dirname "$0")/check_generated.sh" scripts/make_unsupported_model.py tests/data/unsupported network.onnx input.json
