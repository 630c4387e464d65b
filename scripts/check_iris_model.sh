#!/usr/bin/env bash
# Checks the iris-code example is byte-identical to what its script generates.
exec "$(dirname "$0")/check_generated.sh" scripts/make_iris_model.py examples/iris network.onnx input.json input_other.json
