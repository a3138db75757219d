"""models.py: the NAAP-440 CNN builds from every published scheme, runs forward to 10 classes, and
its thop counts reproduce naap440.csv's NumParams and NumMACs."""
import pytest
import torch

from models import Net, count_params_and_macs


def test_counts_match_published_csv(schemes, published_rows):
    assert len(schemes) == len(published_rows) == 440
    for row in published_rows:
        scheme = schemes[int(row["ModelId"]) - 1]
        assert count_params_and_macs(scheme) == (int(row["NumParams"]), int(row["NumMACs"])), row["ModelId"]


@pytest.mark.parametrize("model_id", [1, 25, 440])
def test_net_forward_shape(schemes, model_id):
    net = Net(schemes[model_id - 1]).eval()
    with torch.no_grad():
        out = net(torch.zeros(4, 3, 32, 32))
    assert out.shape == (4, 10)


def test_net_with_residual_forward_shape(schemes):
    scheme = next(s for s in schemes if any(layer["residual"] for layer in s))
    assert Net(scheme)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_models_reexports_the_scheme_checks():
    # validate_scheme's messages name models.MAX_LAYERS etc.: those names must be there
    import models
    from naap.data import schemes as home
    for name in ("MAX_LAYERS", "MAX_WIDTH", "MAX_KERNEL_SIZE", "MAX_PARAMS", "MAX_ACTIVATIONS",
                 "validate_scheme", "scheme_size"):
        assert getattr(models, name) is getattr(home, name), name
