"""Background jobs: training as a separate process and evaluation on a worker thread, each followed and
stopped from a front end."""
