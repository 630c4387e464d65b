#!/usr/bin/env bash
# Checks the bundled demo model is byte-identical to what its script generates.
exec "$(dirname "$0")/check_generated.sh" scripts/make_demo_model.py examples/demo_cnn network.onnx input.json
