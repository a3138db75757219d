"""The protocol's regressors by name: their families and table order, the 0.20.1 rules an
estimator set follows (naap.replica.rules), a factory per name (regressors()), and the relative
cost of a fit by which work is dealt to workers."""
from naap.cli import InputError
from naap.protocol import estimators as protocol_estimators  # `estimators` names an estimator set here
from naap.protocol.settings import DEFAULT_ESTIMATORS, ENSEMBLE_SIZES, ESTIMATOR_SETS, KNN_KS, SVR_KERNELS
from naap.replica import ensembles
from naap.replica.rules import ENSEMBLE_PARTS, MODEL_PARTS, PAPER_VERSION, REPLICA_VERSION, as_release, parts_on

PAPER2_EXTRA = ("Linear Regression (D=2)", "Linear Regression (Exp)", "Linear Regression (Log)",
                "Linear Regression (Sigmoid)")
FAMILIES = {"k-NN": [f"{k}-NN" for k in KNN_KS],
            "Linear Regression": [n for n in protocol_estimators.TARGET_TRANSFORMS if n not in PAPER2_EXTRA],
            "Decision Tree": ["Decision Tree"],
            "Gradient Boosting": [f"Gradient Boosting (N={n})" for n in ENSEMBLE_SIZES],
            "AdaBoost": [f"AdaBoost (N={n})" for n in ENSEMBLE_SIZES],
            "SVR": [f"SVR ({label} kernel)" for _, label in SVR_KERNELS],
            "Random Forest": [f"Random Forest (N={n})" for n in ENSEMBLE_SIZES]}
BASELINE_NAMES = [name for names in FAMILIES.values() for name in names]  # results.csv order
# paper 2's 28: the baseline's, with the extra linear regressions after its linear ones
PAPER2_NAMES = []
for _name in BASELINE_NAMES:
    PAPER2_NAMES.append(_name)
    if _name == "Linear Regression (D=0.25)":
        PAPER2_NAMES += list(PAPER2_EXTRA)
FAMILIES["Linear Regression"] += list(PAPER2_EXTRA)
FAMILY_OF_NAME = {name: family for family, names in FAMILIES.items() for name in names}
ENSEMBLE_OF = {f"{family} (N={n})": (family, n) for family in ensembles.FAMILIES for n in ENSEMBLE_SIZES}
EXTRAPOLATING = frozenset(FAMILIES["Linear Regression"] + ["SVR (Linear kernel)", "SVR (Polynomial kernel)"])
# fits that never read the global random state, so one fit serves every seed
DETERMINISTIC = frozenset(FAMILIES["k-NN"] + FAMILIES["Linear Regression"] + FAMILIES["SVR"])


def check_estimator_set(value, option="--estimators"):
    """value, if it names an estimator set users choose from (ESTIMATOR_SETS); else InputError."""
    if value not in ESTIMATOR_SETS:
        raise InputError(f"{option} {value}: choose from {', '.join(ESTIMATOR_SETS)}")
    return value


def family_of(name):
    """The regressor family of a protocol name; any other name (a plug-in) is its own family."""
    return FAMILY_OF_NAME.get(name, name)


def paper_rules(estimators):
    """The 0.20.1 rules (PAPER_RULES) an estimator set follows: all for "paper", none for
    "sklearn", or the frozenset given."""
    return parts_on(estimators, MODEL_PARTS, every="paper", none="sklearn")


def tree_rules(estimators):
    """The rules handed to the ensembles: PAPER_VERSION, REPLICA_VERSION, or the parts on."""
    return as_release(paper_rules(estimators) & frozenset(ENSEMBLE_PARTS))


def regressors(estimators=DEFAULT_ESTIMATORS):
    """{name: factory of a fresh, unfitted estimator} of all 28 protocol regressors (paper 1's 24
    and paper 2's 4 extra linear ones) in one estimator set."""
    on, rules = paper_rules(estimators), tree_rules(estimators)
    out = {}
    for k in KNN_KS:
        knn = protocol_estimators.PaperKNN if "knn" in on else protocol_estimators.SklearnKNN
        out[f"{k}-NN"] = lambda knn=knn, k=k: knn(k)
    lstsq = PAPER_VERSION if "lstsq" in on else REPLICA_VERSION
    for name, (func, inverse) in protocol_estimators.TARGET_TRANSFORMS.items():
        out[name] = lambda func=func, inverse=inverse: protocol_estimators.ProtocolLinear(lstsq, func, inverse)
    out["Decision Tree"] = lambda: protocol_estimators.ProtocolTree(rules)
    gamma = "auto" if "svr_gamma" in on else "scale"
    openblas = "svr_dot" not in on  # 0.20.1's libsvm summed its dot products itself; 1.9.1's calls BLAS
    for kernel, label in SVR_KERNELS:
        out[f"SVR ({label} kernel)"] = lambda kernel=kernel: protocol_estimators.ProtocolSVR(kernel, gamma, openblas)
    for name, (family, n) in ENSEMBLE_OF.items():
        out[name] = lambda family=family, n=n: protocol_estimators.ProtocolEnsemble(family, n, rules)
    if rules == REPLICA_VERSION and not ensembles.SUPPORTED:
        # another scikit-learn: its own trees and ensembles, fitted plainly
        from sklearn.ensemble import AdaBoostRegressor, GradientBoostingRegressor, RandomForestRegressor
        from sklearn.tree import DecisionTreeRegressor
        classes = {"Random Forest": RandomForestRegressor, "Gradient Boosting": GradientBoostingRegressor,
                   "AdaBoost": AdaBoostRegressor}
        out["Decision Tree"] = DecisionTreeRegressor
        for name, (family, n) in ENSEMBLE_OF.items():
            out[name] = lambda cls=classes[family], n=n: cls(n_estimators=n)
    return {name: out[name] for name in PAPER2_NAMES}


REGRESSORS = {estimators: regressors(estimators) for estimators in ESTIMATOR_SETS}


def own_regressors(estimators):
    """regressors(estimators), built once per estimator set."""
    if estimators not in REGRESSORS:
        REGRESSORS[estimators] = regressors(estimators)
    return REGRESSORS[estimators]


# relative cost of one fit per family, by which work is dealt to workers (the most costly first)
FIT_COST = {"Random Forest": 5.0, "AdaBoost": 3.0, "Gradient Boosting": 3.0, "SVR (Linear kernel)": 0.6}
DEFAULT_FIT_COST = 0.2
