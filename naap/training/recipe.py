"""The paper's training recipe: the constants every NAAP-440 log was trained with.

Library module (constants only, no imports): create_dataset.py trains with them, models.py seeds
the initial weights as the recipe does, and protocol.py and baselines.py read the learning-rate
cycle in the logged curves. reference_training.py writes them out again on purpose: it is the
independent reference that create_dataset.py's loop is tested against.

Example: python -c "import recipe; print(recipe.EPOCHS, recipe.LR_CYCLE)"
"""
EPOCHS = 90
BATCH_SIZE = 256
LR = 0.1
LR_DECAY = 0.1  # multiplied in after every epoch ...
LR_CYCLE = 3  # ... and reset to LR every LR_CYCLE epochs: 0.1, 0.01, 0.001, 0.1, ...
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
SEED = 20220819
