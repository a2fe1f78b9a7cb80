"""Training: configuration, the run's head, the loop, checkpoints, DDP and NoGAN."""
