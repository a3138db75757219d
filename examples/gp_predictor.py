"""A worked plug-in predictor for run_experiments.py: a Gaussian process on the scaled features.

make() returns a fresh scikit-learn GaussianProcessRegressor. The protocol calls it once per
seed and feature set and fits it on the StandardScaler-scaled features of the 400 train models;
no option of this file knows about NAAP-440. Kernel: a constant times a Matern 5/2 kernel (one
length scale: the features are already on one scale) plus white noise, whose hyperparameters
the fit sets by maximising the marginal likelihood; normalize_y centres and scales the target
(MaxAccuracy, about 0.3..0.9), so the kernel's default bounds fit it. Deterministic: a single
optimizer start from the initial values below (no random restarts), so every seed gives the
same fit.

Inputs: none (a library file); outputs: none.
Example:
  python run_experiments.py naap440.csv results_gp/ --predictor "GP=examples/gp_predictor.py:make"
"""
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

LENGTH_SCALE = 1.0  # initial value, in standard deviations of the scaled features
LENGTH_SCALE_BOUNDS = (1e-2, 1e3)
NOISE_LEVEL = 0.1  # initial share of the (normalised) target variance that is noise
NOISE_BOUNDS = (1e-6, 1.0)
NU = 2.5  # Matern smoothness: twice differentiable, less rigid than the RBF kernel
RANDOM_STATE = 0  # unused without restarts; set so that no global random state is read


def make():
    """A fresh, unfitted Gaussian process regressor."""
    kernel = (ConstantKernel(1.0) * Matern(length_scale=LENGTH_SCALE, length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=NU)
              + WhiteKernel(noise_level=NOISE_LEVEL, noise_level_bounds=NOISE_BOUNDS))
    return GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=0,
                                    random_state=RANDOM_STATE)
