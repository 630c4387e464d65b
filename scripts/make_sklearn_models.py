#!/usr/bin/env python3
"""Trains small scikit-learn models on scikit-learn's bundled datasets and
exports them with skl2onnx, as users export classical models, for
tests/sklearn_models.rs:

    pip install -r scripts/requirements-sklearn.txt
    python3 scripts/make_sklearn_models.py [OUT_DIR]   # default: tests/data/sklearn

Each model gets OUT_DIR/<name>/network.onnx, input.json (EZKL's layout: two
rows of the training data) and expected.json (onnxruntime's outputs on that
input, flattened, in graph output order, with the outputs' names). The models use the `ai.onnx.ml`
operators that zkinfer rewrites into standard ones (LightGBM and XGBoost models
through onnxmltools too): tree ensembles
(classifier with several classes, binary gradient boosting with a logistic
output, regressor forests), linear models, Scaler, Normalizer, Binarizer,
ZipMap, ArrayFeatureExtractor, and kernel SVMs (RBF and polynomial;
one-vs-one classifiers).
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnxmltools import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer, MinMaxScaler, Normalizer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier
import lightgbm
import xgboost


OPSETS = {"": 15, "ai.onnx.ml": 3}


def data(loader):
    x, y = loader(return_X_y=True)
    return x.astype(np.float32), y


def models():
    iris, iris_y = data(load_iris)
    diabetes, diabetes_y = data(load_diabetes)
    cancer, cancer_y = data(load_breast_cancer)
    wine, wine_y = data(load_wine)
    rng = np.random.default_rng(0)
    mixed = np.c_[rng.integers(0, 4, 200), rng.normal(size=(200, 3))].astype(np.float32)
    mixed_y = ((mixed[:, 0] > 1) ^ (mixed[:, 1] > 0.5)).astype(np.int64)
    return {
        # TreeEnsembleClassifier, three classes, no post transform.
        "decision_tree": (DecisionTreeClassifier(max_depth=4, random_state=0), iris, iris_y, {}),
        # Binary gradient boosting: one score column, logistic output, base value.
        "gradient_boosting": (
            GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0),
            cancer,
            cancer_y,
            {},
        ),
        # Forest of classifiers, with ZipMap left in (the default export).
        "random_forest_zipmap": (
            RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
            wine,
            wine_y,
            {"zipmap": True},
        ),
        # TreeEnsembleRegressor with AVERAGE, and SUM with a base value.
        "extra_trees": (ExtraTreesRegressor(n_estimators=3, max_depth=4, random_state=0), diabetes, diabetes_y, {}),
        "gradient_boosting_regressor": (
            GradientBoostingRegressor(n_estimators=4, max_depth=3, random_state=0),
            diabetes,
            diabetes_y,
            {},
        ),
        # Scaler + LinearClassifier (softmax) + Normalizer L1.
        "logistic_regression": (make_pipeline(StandardScaler(), LogisticRegression()), iris, iris_y, {}),
        # Binary LinearClassifier: one coefficient row, [−s, s] scores.
        "logistic_binary": (make_pipeline(MinMaxScaler(), LogisticRegression()), cancer, cancer_y, {}),
        # RidgeClassifier: LinearClassifier without post transform; Normalizer L2 before it.
        "ridge_classifier": (make_pipeline(Normalizer(norm="l2"), RidgeClassifier()), wine, wine_y, {}),
        # LinearRegressor after a Binarizer and a MinMaxScaler.
        "ridge": (make_pipeline(MinMaxScaler(), Binarizer(threshold=0.5), Ridge()), diabetes, diabetes_y, {}),
        # SVMRegressor (RBF) and SVMClassifier (polynomial, one-vs-one, 3 classes).
        "svr_rbf": (SVR(kernel="rbf", C=10.0), diabetes[:120], diabetes_y[:120], {}),
        "svc_poly": (make_pipeline(StandardScaler(), SVC(kernel="poly", degree=2)), iris, iris_y, {}),
        # Binary SVMClassifier (RBF).
        "svc_binary": (make_pipeline(StandardScaler(), SVC(kernel="rbf")), cancer[:150], cancer_y[:150], {}),
        # Standard operators plus ArrayFeatureExtractor for the label.
        "mlp": (
            make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=400, random_state=0)),
            iris,
            iris_y,
            {},
        ),
        # ColumnTransformer: OneHotEncoder on an integer-valued column,
        # StandardScaler on the others (ArrayFeatureExtractor, Scaler, Concat).
        "one_hot_pipeline": (
            make_pipeline(
                ColumnTransformer([("categories", OneHotEncoder(), [0]), ("numbers", StandardScaler(), [1, 2, 3])]),
                LogisticRegression(),
            ),
            mixed,
            mixed_y,
            {},
        ),
        # LightGBM and XGBoost through onnxmltools: TreeEnsembleClassifier
        # (multi-class softmax, binary logistic; LightGBM's with ZipMap) and
        # TreeEnsembleRegressor with base values.
        "lgbm_multiclass": (lightgbm.LGBMClassifier(n_estimators=5, num_leaves=7, verbose=-1), iris, iris_y, LGBM),
        "lgbm_binary": (lightgbm.LGBMClassifier(n_estimators=5, num_leaves=7, verbose=-1), cancer, cancer_y, LGBM),
        "lgbm_regressor": (lightgbm.LGBMRegressor(n_estimators=5, num_leaves=7, verbose=-1), diabetes, diabetes_y, LGBM),
        "xgb_multiclass": (xgboost.XGBClassifier(n_estimators=4, max_depth=3), iris, iris_y, XGB),
        "xgb_binary": (xgboost.XGBClassifier(n_estimators=4, max_depth=3), cancer, cancer_y, XGB),
        "xgb_regressor": (xgboost.XGBRegressor(n_estimators=4, max_depth=3), diabetes, diabetes_y, XGB),
    }


LGBM = {"converter": convert_lightgbm}
XGB = {"converter": convert_xgboost}


def export(model, x, options):
    """The ONNX model as its exporter writes it."""
    if "converter" in options:
        types = [("input", FloatTensorType([None, x.shape[1]]))]
        return options["converter"](model, initial_types=types, target_opset=OPSETS[""])
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    # Classifiers with probabilities end in ZipMap unless told otherwise.
    if not options.get("zipmap", False) and hasattr(final, "predict_proba"):
        return to_onnx(model, x[:1], options={id(final): {"zipmap": False}}, target_opset=OPSETS)
    return to_onnx(model, x[:1], target_opset=OPSETS)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "sklearn")
    import warnings

    warnings.filterwarnings("ignore")
    for name, (model, x, y, options) in models().items():
        model.fit(x, y)
        onx = export(model, x, options)
        onx.producer_version = ""
        onx.graph.name = name  # onnxmltools names graphs with a random id
        # The exporters collect opsets in a set: fix their order, so the
        # files are the same on every run.
        opsets = sorted(onx.opset_import, key=lambda o: o.domain)
        del onx.opset_import[:]
        onx.opset_import.extend(opsets)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "network.onnx")
        onnx.save(onx, path)
        sample = x[[0, len(x) // 2]]
        with open(os.path.join(d, "input.json"), "w") as f:
            json.dump({"input_data": [sample.flatten().tolist()]}, f)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        results = session.run(None, {session.get_inputs()[0].name: sample})
        flat = []
        for r in results:
            if isinstance(r, list):  # ZipMap: a list of {class: probability}
                flat.append([float(v) for row in r for v in row.values()])
            else:
                flat.append(np.asarray(r, dtype=np.float64).flatten().tolist())
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"names": [o.name for o in session.get_outputs()], "outputs": flat}, f)
        ml_ops = sorted({n.op_type for n in onx.graph.node if n.domain == "ai.onnx.ml"})
        print(f"{name}: {', '.join(ml_ops)}")


if __name__ == "__main__":
    main()
