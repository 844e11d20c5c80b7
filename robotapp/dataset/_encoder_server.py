"""Preloaded by multiprocessing's forkserver (and only there): lower the server's priority before it imports
the encoder's libraries, so starting it never competes with a running control loop, then import them once for
every encoder process it will fork."""

import os

os.nice(10)

import robotapp.dataset.encoder_pool  # noqa: E402, F401
