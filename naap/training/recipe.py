"""The paper's training recipe: the constants every NAAP-440 log was trained with.

Library module (constants only, no imports, so light modules such as naap.data.columns and
naap.data.schemes may read it): naap.training.loop trains with them, naap.training.cifar10 reads
images of IMAGE_SHAPE with labels below NUM_CLASSES, models.py builds the CNN for them and seeds its
initial weights as the recipe does, and naap.learning_curves and baselines.py read the learning-rate
cycle in the logged curves. tests/reference_training.py writes them out again on purpose: it is the
independent reference that naap.training.loop is tested against.

Example: python -c "from naap.training import recipe; print(recipe.EPOCHS, recipe.LR_CYCLE)"
"""
IMAGE_SHAPE = (3, 32, 32)  # CIFAR-10: channels, height, width
NUM_CLASSES = 10
EPOCHS = 90
BATCH_SIZE = 256
LR = 0.1
LR_DECAY = 0.1  # multiplied in after every epoch ...
LR_CYCLE = 3  # ... and reset to LR every LR_CYCLE epochs: 0.1, 0.01, 0.001, 0.1, ...
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
SEED = 20220819
