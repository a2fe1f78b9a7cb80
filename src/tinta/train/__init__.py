"""Training: configuration, tasks (what is predicted), the loop and run folders."""
