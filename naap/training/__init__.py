"""The training stage that made the NAAP-440 logs: recipe (the paper's constants), cifar10 (the data
as the recipe reads it), loop (seeding, learning rate, the fast epochs, one scheme's training),
checkpoints (the files a crash-safe run keeps) and jobs (the worker pool over the schemes).

Nothing is imported here: naap.training.recipe is read by light modules (naap.data.columns,
naap.data.schemes) that must not pull in torch, which the other modules import. Import them by name,
e.g. `from naap.training.loop import train_scheme`.
"""
