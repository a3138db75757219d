"""The protocol's settings: seeds, regressor sizes and hyperparameters, the two estimator sets,
the 0.20.1 rules they may switch on, and paper 2's noise and modes. Constants only."""
from naap.replica.rules import DATA_PARTS, MODEL_PARTS

SEEDS = tuple(range(20220905, 20220910))
ENSEMBLE_SIZES = (25, 50, 100, 200)
KNN_KS = (1, 3, 5, 7, 9)
SVR_KERNELS = (("rbf", "RBF"), ("poly", "Polynomial"), ("linear", "Linear"))
SVR_EPSILON, SVR_C, SVR_DEGREE, SVR_COEF0 = 0.001, 0.1, 3, 0.0  # the paper sets kernel, epsilon, C
KNN_OMP_THREADS = 2  # scikit-learn >= 1.x k-NN ties depend on the OpenMP thread count: fix it
ESTIMATOR_SETS = ("paper", "sklearn")
DEFAULT_ESTIMATORS = "paper"
# what the "paper" set does as scikit-learn 0.20.1 did (each can be switched off: bench_fidelity)
PAPER_RULES = MODEL_PARTS  # the parts of 0.20.1's behaviour an estimator set may switch on
DATA_RULES = DATA_PARTS  # the 2022 data path, in both sets (naap.data.load)

# paper 2 (NAAP-440e feature selection); naap.data.modes splits the rows of each mode
NOISE_STD = 1e-5
MODES = ("interpolation", "left_extrapolation", "right_extrapolation", "dual_extrapolation")
